"""Batch ingest of positions and sensor readings: stored whole, or refused whole with 400."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from dispatchd.models import PositionFix, Sensor, SensorReading, Worker


def fix(worker: Worker, at: datetime, lat: float = 22.705, lon: float = 114.305, **extra) -> dict:
    """One GPS fix item."""
    return {"worker_id": worker.id, "lat": lat, "lon": lon, "at": at.isoformat(), **extra}


@pytest.fixture
def sensor(city) -> Sensor:
    """A smoke sensor in cell 0."""
    lat, lon = city.point_in(0)
    return Sensor.objects.create(code="SMK-1", name="烟感1", type="smoke", lat=lat, lon=lon, grid=city.cells[0])


def test_positions_are_stored_and_move_the_workers(city, api_as, clock, events):
    w0, w1 = city.workers[:2]
    items = [fix(w0, clock.now - timedelta(seconds=10)), fix(w0, clock.now, lat=22.706), fix(w1, clock.now)]
    with events.committing():
        response = api_as("device").post("positions", {"items": items})
    assert response.json() == {"accepted": 3, "duplicates": 0}
    assert PositionFix.objects.count() == 3
    w0.refresh_from_db()
    assert (w0.lat, w0.last_seen) == (22.706, clock.now)
    assert sorted(d["worker_id"] for d in events.data("position", topic="positions")) == [w0.id, w1.id]


def test_a_repeated_fix_is_counted_as_a_duplicate(city, commander, clock):
    items = [fix(city.workers[0], clock.now)]
    commander.post("positions", {"items": items})
    assert commander.post("positions", {"items": items * 2}).json() == {"accepted": 0, "duplicates": 2}
    assert PositionFix.objects.count() == 1


def test_an_older_fix_does_not_move_a_worker_back(city, commander, clock):
    worker = city.workers[0]
    commander.post("positions", {"items": [fix(worker, clock.now, lat=22.71)]})
    commander.post("positions", {"items": [fix(worker, clock.now - timedelta(minutes=1), lat=22.70)]})
    worker.refresh_from_db()
    assert worker.lat == 22.71 and PositionFix.objects.count() == 2


@pytest.mark.parametrize(
    "bad",
    [
        {"worker_id": 999_999},
        {"lat": 95},
        {"lon": "east"},
        {"at": "2099-01-01T00:00:00+08:00"},
        {"at": "1970-01-01T00:00:00Z"},
        {"at": "not a time"},
        {"speed_mps": -1},
        {"extra": 1},
    ],
)
def test_one_bad_position_refuses_the_whole_batch(city, commander, clock, bad):
    items = [fix(city.workers[0], clock.now), {**fix(city.workers[1], clock.now), **bad}]
    response = commander.post("positions", {"items": items})
    assert (response.status_code, response.json()["error"]) == (400, "invalid")
    assert PositionFix.objects.count() == 0
    assert Worker.objects.filter(last_seen__isnull=False).count() == 0


def test_an_empty_or_oversized_batch_is_refused(city, commander, clock):
    assert commander.post("positions", {"items": []}).status_code == 400
    many = [fix(city.workers[0], clock.now - timedelta(seconds=i)) for i in range(5001)]
    assert commander.post("positions", {"items": many}).status_code == 400
    assert PositionFix.objects.count() == 0


def test_a_worker_publishes_only_its_own_position(city, api_as, clock):
    worker = api_as("worker", city.workers[0])
    assert worker.post("positions", {"items": [fix(city.workers[0], clock.now)]}).status_code == 200
    response = worker.post("positions", {"items": [fix(city.workers[0], clock.now), fix(city.workers[1], clock.now)]})
    assert (response.status_code, response.json()["error"]) == (403, "forbidden")
    assert PositionFix.objects.count() == 1


def test_the_wall_may_not_publish_positions(city, api_as, clock):
    assert api_as("wall").post("positions", {"items": [fix(city.workers[0], clock.now)]}).status_code == 403


def test_readings_are_stored_and_keep_the_latest_value(city, api_as, sensor, clock, events):
    items = [
        {"sensor": "SMK-1", "at": (clock.now - timedelta(minutes=1)).isoformat(), "value": 0.1},
        {"sensor": "SMK-1", "at": clock.now.isoformat(), "value": 0.7},
    ]
    with events.committing():
        response = api_as("device").post("sensors/readings", {"items": items})
    assert response.json() == {"accepted": 2, "duplicates": 0}
    sensor.refresh_from_db()
    assert (sensor.last_value, sensor.last_seen, sensor.online) == (0.7, clock.now, True)
    assert [d["value"] for d in events.data("sensor.reading", topic="sensors")] == [0.7]


@pytest.mark.parametrize(
    "bad",
    [{"sensor": "NOPE"}, {"value": "high"}, {"value": 1e12}, {"at": "2099-01-01T00:00:00Z"}, {"sensor": ""}],
)
def test_one_bad_reading_refuses_the_whole_batch(city, commander, sensor, clock, bad):
    items = [{"sensor": "SMK-1", "at": clock.now.isoformat(), "value": 1.0}]
    response = commander.post("sensors/readings", {"items": items + [{**items[0], **bad}]})
    assert (response.status_code, response.json()["error"]) == (400, "invalid")
    assert SensorReading.objects.count() == 0


def test_readings_come_from_devices_or_commanders_only(city, api_as, sensor, clock):
    items = [{"sensor": "SMK-1", "at": clock.now.isoformat(), "value": 1.0}]
    assert api_as("wall").post("sensors/readings", {"items": items}).status_code == 403
    assert api_as("worker", city.workers[0]).post("sensors/readings", {"items": items}).status_code == 403
    assert SensorReading.objects.count() == 0
