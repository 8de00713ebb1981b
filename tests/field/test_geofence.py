"""Geofences resist GPS drift: no exit from jitter along a boundary, exactly one for a real exit, one dwell alarm."""

from __future__ import annotations

import random
from datetime import timedelta

from dispatchd.field import pipeline
from dispatchd.geo.geofence import INSIDE, OUTSIDE, FenceRules, FenceShape, FenceState
from dispatchd.models import Alarm
from tests.city import square
from tests.field.conftest import track

BASE_LON, BASE_LAT = 114.30, 22.70  # south-west corner of the small city's cell 0 (0.01° square)
EAST_EDGE = BASE_LON + 0.01
M_LON = 1 / 102_730  # degrees of longitude per metre at 22.7° N
RULES = FenceRules(margin_m=10, exit_dwell_s=60, enter_dwell_s=10, alarm_after_s=900)


def walk(rules, fence, points, accuracy=10.0, step_s=5.0):
    """Feed (lat, lon) points every step_s seconds; the final state and every event."""
    state, seen = FenceState(), []
    for i, (lat, lon) in enumerate(points):
        state, events = rules.observe(fence, state, lat, lon, accuracy, i * step_s)
        seen += events
    return state, seen


def along_edge(n, rng, offset_m=(-8, 8), noise_m=10):
    """A walk north along the east edge: true offset within offset_m, plus GPS noise up to noise_m."""
    return [
        (BASE_LAT + 0.001 + i * 0.00001, EAST_EDGE + (rng.uniform(*offset_m) + rng.uniform(-noise_m, noise_m)) * M_LON)
        for i in range(n)
    ]


def test_signed_distance_is_metres_to_the_boundary():
    fence = FenceShape("cell", square(BASE_LON, BASE_LAT))
    assert abs(fence.signed_distance_m(BASE_LAT + 0.005, EAST_EDGE - 50 * M_LON) - 50) < 0.5
    assert abs(fence.signed_distance_m(BASE_LAT + 0.005, EAST_EDGE + 30 * M_LON) + 30) < 0.5


def test_a_jittery_track_along_the_boundary_never_exits():
    fence = FenceShape("cell", square(BASE_LON, BASE_LAT))
    start = [(BASE_LAT + 0.005, BASE_LON + 0.005)]
    state, events = walk(RULES, fence, start + along_edge(720, random.Random(3)))
    assert events == []
    assert state.side == INSIDE


def test_a_real_exit_counts_exactly_once_and_a_return_once():
    fence = FenceShape("cell", square(BASE_LON, BASE_LAT))
    rng = random.Random(5)
    inside = along_edge(60, rng, offset_m=(-40, -25))
    leaving = [(BASE_LAT + 0.002, EAST_EDGE + (i * 10 + rng.uniform(-5, 5)) * M_LON) for i in range(-3, 30)]
    away = [(BASE_LAT + 0.002, EAST_EDGE + (300 + rng.uniform(-10, 10)) * M_LON) for _ in range(60)]
    back = [(BASE_LAT + 0.005, BASE_LON + 0.005)] * 10
    state, events = walk(RULES, fence, inside + leaving + away + back)
    assert [e.kind for e in events] == ["exit", "enter"]
    exit_event = events[0]
    assert exit_event.at - exit_event.since >= RULES.exit_dwell_s
    assert state.side == INSIDE


def test_staying_outside_raises_one_dwell_alarm_per_excursion():
    fence = FenceShape("cell", square(BASE_LON, BASE_LAT))
    inside = [(BASE_LAT + 0.005, BASE_LON + 0.005)] * 5
    outside = [(BASE_LAT + 0.005, EAST_EDGE + 200 * M_LON)] * 300  # 25 minutes at 5 s
    state, events = walk(RULES, fence, inside + outside + inside + outside)
    assert [e.kind for e in events] == ["exit", "dwell_alarm", "enter", "exit", "dwell_alarm"]
    first_alarm = events[1]
    assert first_alarm.at - first_alarm.since >= RULES.alarm_after_s
    assert state.side == OUTSIDE and state.alarmed


def test_the_pipeline_reports_one_exit_and_one_alarm_for_a_worker_leaving_its_grid(city, clock, events):
    worker = city.workers[0]  # own grid: cell 0
    rng = random.Random(9)
    start = clock.now - timedelta(minutes=40)
    points = along_edge(120, rng) + [(BASE_LAT + 0.004, EAST_EDGE + 250 * M_LON)] * 240  # then 20 min away
    items = track(worker, points, start, step_s=5, accuracy_m=10)
    with events.committing():
        for i in range(0, len(items), 50):  # in several batches, like a phone uploading every few minutes
            pipeline.ingest(items[i:i + 50])
    exits = events.data("geofence.exit", topic="alarms")
    assert [(e["worker_id"], e["fence"]) for e in exits] == [(worker.id, f"grid:{worker.grid_id}")]
    assert events.types("alarms").count("geofence.enter") == 0
    alarms = Alarm.objects.filter(kind="geofence_dwell", worker=worker)
    assert alarms.count() == 1
    assert len(events.data("alarm.raised", topic="alarms")) == 1


def test_the_daemon_raises_the_alarm_for_a_worker_that_left_and_fell_silent(city, clock, events):
    worker = city.workers[0]
    points = [(BASE_LAT + 0.005, BASE_LON + 0.005)] * 3 + [(BASE_LAT + 0.005, EAST_EDGE + 300 * M_LON)] * 20
    with events.committing():
        pipeline.ingest(track(worker, points, clock.now - timedelta(minutes=2), step_s=5))
        assert pipeline.check_fence_dwell(clock.now + timedelta(minutes=5)) == 0
        assert pipeline.check_fence_dwell(clock.now + timedelta(minutes=20)) == 1
        assert pipeline.check_fence_dwell(clock.now + timedelta(minutes=30)) == 0
    assert Alarm.objects.filter(kind="geofence_dwell", worker=worker).count() == 1
