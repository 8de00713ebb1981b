"""Fixtures of the war-room tests: a fresh live store, recorded events, a stopped clock, API clients, a scene."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest

from dispatchd.field import pipeline
from dispatchd.field.live import use_store
from dispatchd.field.store import MemoryStore
from dispatchd.models import Camera, Resource, Sensor
from tests.api.conftest import ApiClient
from tests.dispatchd.helpers import clock, events  # noqa: F401 - fixtures
from tests.field.conftest import fix
from wall.auth import create_token

M_LAT = 1 / 110_750  # degrees of latitude per metre


@pytest.fixture(autouse=True)
def fresh_store() -> Iterator[MemoryStore]:
    """A new in-memory live store for every test."""
    store = MemoryStore()
    use_store(store)
    yield store
    use_store(None)


@pytest.fixture
def api_as(city):
    """A factory of API clients: api_as("wall"), api_as("worker", city.workers[1])."""

    def make(role: str, worker=None) -> ApiClient:
        return ApiClient(create_token(role, f"test-{role}", worker.id if worker else None))

    return make


@dataclass
class Scene:
    """The incident centre (the centre of cell 0) and where everything stands, in metres north of it."""

    lat: float
    lon: float
    at: datetime

    def north(self, metres: float) -> tuple[float, float]:
        """(lat, lon) `metres` north of the centre."""
        return self.lat + metres * M_LAT, self.lon


def walk(scene: Scene, recorder, moves: dict, seconds: float = 0) -> None:
    """Feed one fix per worker (`worker → metres north`) through the position pipeline, committed."""
    at = scene.at + timedelta(seconds=seconds)
    with recorder.committing():
        pipeline.ingest([fix(worker, *scene.north(m), at) for worker, m in moves.items()])


@pytest.fixture
def scene(city, clock, events) -> Scene:  # noqa: F811 - fixtures
    """Workers at 100, 300, 700, 1500, 2500 and 4000 m north of cell 0's centre; a camera, sensor, resources."""
    lat, lon = city.point_in(0)
    here = Scene(lat, lon, clock.now - timedelta(seconds=30))
    walk(here, events, dict(zip(city.workers, (100, 300, 700, 1500, 2500, 4000), strict=True)))
    Camera.objects.create(gb_id="34020000001320000001", name="路口摄像机", lat=here.north(200)[0], lon=lon,
                          online=True)
    Camera.objects.create(gb_id="34020000001320000002", name="远处摄像机", lat=here.north(5000)[0], lon=lon)
    Sensor.objects.create(code="GAS1", name="燃气监测", type="gas", lat=here.north(800)[0], lon=lon)
    Resource.objects.create(kind="shelter", name="第一中学避难场所", lat=here.north(2000)[0], lon=lon, quantity=800)
    Resource.objects.create(kind="hydrant", name="消防栓 H-12", lat=here.north(400)[0], lon=lon)
    events.clear()
    return here
