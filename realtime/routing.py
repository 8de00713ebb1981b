"""WebSocket URL patterns of the hub."""

from __future__ import annotations

from django.urls import path

from realtime.connection import hub_endpoint

websocket_urlpatterns: list = [path("ws/hub", hub_endpoint)]
