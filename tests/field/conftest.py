"""Fixtures of the field tests: a fresh live store per test, recorded events, a stopped clock, API clients."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.test import Client

from dispatchd.field import fences
from dispatchd.field.live import use_store
from dispatchd.field.store import MemoryStore
from tests.dispatchd.helpers import clock, events  # noqa: F401 - fixtures


@pytest.fixture(autouse=True)
def fresh_store() -> Iterator[MemoryStore]:
    """A new in-memory live store and fence snapshot for every test."""
    store = MemoryStore()
    use_store(store)
    fences.invalidate()
    yield store
    use_store(None)
    fences.invalidate()


def fix(worker, lat: float, lon: float, at: datetime, **extra: Any) -> dict[str, Any]:
    """One position item as the ingest receives it."""
    return {"worker_id": worker if isinstance(worker, int) else worker.id, "lat": lat, "lon": lon, "at": at, **extra}


def track(worker, points: list[tuple[float, float]], start: datetime, step_s: float = 5, **extra) -> list[dict]:
    """Items for a walk through `points`, one every `step_s` seconds from `start`."""
    return [
        fix(worker, lat, lon, start + timedelta(seconds=i * step_s), **extra) for i, (lat, lon) in enumerate(points)
    ]


class Api:
    """The Django test client with a bearer token and JSON bodies."""

    def __init__(self, token: str) -> None:
        self.client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")

    def get(self, path: str, query: dict[str, Any] | None = None):
        """GET /api/<path>."""
        return self.client.get(f"/api/{path}", query or {})

    def post(self, path: str, body: Any = None):
        """POST /api/<path> with a JSON body."""
        return self.client.post(f"/api/{path}", json.dumps(body or {}), content_type="application/json")


@pytest.fixture
def api_as(city):
    """A factory of API clients by role (and worker)."""
    from wall.auth import create_token

    def make(role: str, worker=None) -> Api:
        return Api(create_token(role, f"test-{role}", worker.id if worker else None))

    return make
