"""GET /healthz reports the database and the channel layer."""

from __future__ import annotations

from django.db import connection
from django.test import Client


def test_healthz_is_ok_with_database_and_channel_layer_state(db):
    response = Client().get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"]["ok"] is True and body["database"]["vendor"] == connection.vendor
    assert body["channel_layer"]["ok"] is True and body["channel_layer"]["backend"]


def test_healthz_reports_a_broken_channel_layer_as_degraded(db, settings):
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "no.such.Layer"}}
    response = Client().get("/healthz")
    assert response.status_code == 503
    assert response.json()["status"] == "degraded" and response.json()["channel_layer"]["ok"] is False
