"""Fixtures of the call tests: a call manager on loopback with short timers, and its published events."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from video.calls.config import CallSettings
from video.calls.model import Caller
from video.calls.sessions import CallManager

COMMANDER = Caller("commander:duty", "commander", "Duty commander")
SECOND = Caller("commander:dept", "commander", "Water department desk")


def worker(worker_id: int) -> Caller:
    """The caller of a field worker."""
    return Caller(f"worker:{worker_id}", "worker", f"Worker {worker_id}", worker_id)


@dataclass
class Published:
    """Hub events the manager published, in order."""

    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    async def __call__(self, topic: str, event: dict[str, Any]) -> int:
        self.events.append((topic, event))
        return len(self.events)

    def on(self, topic: str, event_type: str | None = None) -> list[dict[str, Any]]:
        """The data of the events on `topic` (of one type)."""
        return [e["data"] for t, e in self.events if t == topic and event_type in (None, e["type"])]


@pytest.fixture(autouse=True)
def _loopback(loopback_ice) -> None:
    """Every call test's peers use loopback ICE (tests/conftest.py)."""


@pytest.fixture
def published() -> Published:
    return Published()


@pytest.fixture
def call_settings(tmp_path) -> CallSettings:
    return CallSettings(ring_timeout=5.0, connect_timeout=10.0, reconnect_grace=5.0, recordings=tmp_path / "recordings")


@pytest.fixture
async def calls(call_settings: CallSettings):
    """The call service of the API (publishing on the in-process hub, writing case timelines)."""
    from realtime import apublish
    from video.calls import service, timeline

    manager = CallManager(call_settings, apublish, on_recorded=timeline.on_recorded)
    service.use(manager)
    yield manager
    await manager.close()
    service.use(None)


@pytest.fixture
async def manager(call_settings: CallSettings, published: Published):
    calls = CallManager(call_settings, published)
    yield calls
    await calls.close()
