"""WebSocket URL patterns of the hub."""

from __future__ import annotations

websocket_urlpatterns: list = []
