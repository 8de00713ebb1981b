"""The position pipeline: refuses bad batches untouched, dedupes, keeps late fixes for the trail only."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest

from dispatchd.errors import InvalidInput
from dispatchd.field import pipeline
from dispatchd.field.state import OFFLINE, ON_DUTY
from dispatchd.models import PositionFix, Worker
from tests.field.conftest import fix, track


def test_fixes_move_the_live_state_store_the_trail_and_announce_the_newest(city, clock, events, fresh_store):
    w = city.workers[0]
    lat, lon = city.point_in(0)
    items = track(w, [(lat, lon), (lat + 0.001, lon), (lat + 0.002, lon)], clock.now - timedelta(seconds=30),
                  accuracy_m=8, speed_mps=1.2, heading=0)
    with events.committing():
        result = pipeline.ingest(items)
    assert result["accepted"] == 3 and result["duplicates"] == 0 and result["moved"] == 3
    live = fresh_store.get(w.id)
    assert (live.lat, live.lon, live.accuracy_m, live.speed_mps) == (lat + 0.002, lon, 8, 1.2)
    assert PositionFix.objects.filter(worker=w).count() == 3
    w.refresh_from_db()
    assert (w.lat, w.lon) == (lat + 0.002, lon)
    assert [d["lat"] for d in events.data("position", topic="positions")] == [lat + 0.002]


BAD_ITEMS = {
    "latitude out of range": {"lat": 91.0},
    "longitude not a number": {"lon": math.nan},
    "null island": {"lat": 0.0, "lon": 0.0},
    "negative accuracy": {"accuracy_m": -1.0},
    "infinite speed": {"speed_mps": math.inf},
    "heading above 360": {"heading": 361.0},
    "timestamp from the future": {"at_shift_s": 3600},
    "timestamp far in the past": {"at_shift_s": -90 * 86400},
    "unknown worker": {"worker_id": 999_999},
    "no timestamp": {"at": None},
}


@pytest.mark.parametrize("bad", BAD_ITEMS.values(), ids=BAD_ITEMS.keys())
def test_a_bad_position_refuses_the_whole_batch_and_stores_nothing(city, clock, events, fresh_store, bad):
    w = city.workers[0]
    lat, lon = city.point_in(0)
    good = fix(w, lat, lon, clock.now - timedelta(seconds=10))
    bad = dict(bad)
    shift = bad.pop("at_shift_s", 0)
    broken = {**fix(w, lat, lon, clock.now + timedelta(seconds=shift)), **bad}
    with events.committing(), pytest.raises(InvalidInput) as refused:
        pipeline.ingest([good, broken])
    assert "items[1]" in refused.value.detail or "worker_id" in refused.value.detail
    assert PositionFix.objects.count() == 0
    assert fresh_store.get(w.id) is None or fresh_store.get(w.id).lat is None
    assert events.published == []


def test_repeated_fixes_are_counted_as_duplicates_and_stored_once(city, clock, events):
    w = city.workers[0]
    lat, lon = city.point_in(0)
    items = track(w, [(lat, lon), (lat, lon + 0.001)], clock.now - timedelta(seconds=20))
    with events.committing():
        first = pipeline.ingest(items + items[:1])
        second = pipeline.ingest(items)
    assert (first["accepted"], first["duplicates"]) == (2, 1)
    assert (second["accepted"], second["duplicates"]) == (0, 2)
    assert PositionFix.objects.filter(worker=w).count() == 2


def test_a_late_fix_joins_the_trail_but_does_not_move_the_worker_back(city, clock, events, fresh_store):
    w = city.workers[0]
    lat, lon = city.point_in(0)
    with events.committing():
        pipeline.ingest([fix(w, lat, lon, clock.now - timedelta(seconds=5))])
        late = pipeline.ingest([fix(w, lat + 0.003, lon, clock.now - timedelta(seconds=60))])
    assert (late["accepted"], late["late"], late["moved"]) == (1, 1, 0)
    assert fresh_store.get(w.id).lat == lat
    assert PositionFix.objects.filter(worker=w).count() == 2
    w.refresh_from_db()
    assert w.lat == lat


def test_an_inaccurate_fix_is_kept_for_the_trail_only(city, clock, events, fresh_store):
    w = city.workers[0]
    lat, lon = city.point_in(0)
    with events.committing():
        pipeline.ingest([fix(w, lat, lon, clock.now - timedelta(seconds=10), accuracy_m=5)])
        coarse = pipeline.ingest([fix(w, lat + 0.01, lon, clock.now, accuracy_m=900)])
    assert (coarse["accepted"], coarse["coarse"], coarse["moved"]) == (1, 1, 0)
    assert fresh_store.get(w.id).lat == lat


def test_a_silent_worker_goes_offline_and_comes_back_with_its_next_fix(city, clock, events, fresh_store):
    w = city.workers[0]
    lat, lon = city.point_in(0)
    with events.committing():
        pipeline.ingest([fix(w, lat, lon, clock.now)])
        assert pipeline.sweep_offline(clock.now + timedelta(minutes=4)) == []
        assert w.id in pipeline.sweep_offline(clock.now + timedelta(minutes=6))
    assert fresh_store.get(w.id).status == OFFLINE
    assert Worker.objects.get(pk=w.id).state == OFFLINE
    assert w.id not in [s.worker_id for s, _ in fresh_store.nearest(lat, lon, 10)]
    clock.advance(minutes=7)
    with events.committing():
        pipeline.ingest([fix(w, lat, lon, clock.now)])
    assert fresh_store.get(w.id).status == ON_DUTY
    assert Worker.objects.get(pk=w.id).state == ON_DUTY
    assert w.id in [s.worker_id for s, _ in fresh_store.nearest(lat, lon, 10)]


def test_the_http_batch_refuses_a_bad_position_with_400_and_stores_nothing(city, clock, api_as):
    w = city.workers[0]
    lat, lon = city.point_in(0)
    body = {"items": [
        {"worker_id": w.id, "lat": lat, "lon": lon, "at": (clock.now - timedelta(seconds=5)).isoformat()},
        {"worker_id": w.id, "lat": lat, "lon": lon, "at": (clock.now + timedelta(hours=1)).isoformat()},
    ]}
    response = api_as("worker", w).post("positions", body)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid"
    assert PositionFix.objects.count() == 0


def test_a_batch_writes_its_workers_rows_in_as_many_statements_for_six_workers_as_for_one(city, clock, events,
                                                                                         fresh_store):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def place(n: int) -> tuple[float, float]:
        lat, lon = city.point_in(n % 4)
        return lat + n / 10_000, lon

    def statements(workers, at) -> int:
        items = [fix(w, *place(n), at) for n, w in enumerate(workers)]
        with events.committing(), CaptureQueriesContext(connection) as queries:
            pipeline.ingest(items)
        return len(queries)

    statements(city.workers[:1], clock.now - timedelta(seconds=30))  # loads the grid and fence caches
    one = statements(city.workers[:1], clock.now - timedelta(seconds=20))
    six = statements(city.workers, clock.now - timedelta(seconds=10))
    assert six == one
    moved = {w.id: (w.lat, w.lon) for w in Worker.objects.filter(pk__in=[w.id for w in city.workers])}
    assert moved == {w.id: place(n) for n, w in enumerate(city.workers)}


def test_a_row_already_holding_a_newer_fix_keeps_it(city, clock, events, fresh_store):
    first, second = city.workers[:2]
    later = clock.now + timedelta(seconds=30)
    Worker.objects.filter(pk=first.pk).update(lat=1.0, lon=2.0, last_seen=later)  # written by another process
    with events.committing():
        pipeline.ingest([fix(first, *city.point_in(0), clock.now), fix(second, *city.point_in(1), clock.now)])
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.lat, first.lon, first.last_seen) == (1.0, 2.0, later)
    assert (second.lat, second.lon, second.last_seen) == (*city.point_in(1), clock.now)
