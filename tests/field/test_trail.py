"""Trails: long ranges are downsampled evenly over time, keeping both ends."""

from __future__ import annotations

from datetime import datetime, timedelta

from dispatchd.field import pipeline
from dispatchd.field.trail import downsample, trail
from tests.field.conftest import track


def test_downsampling_spreads_points_over_time_and_keeps_both_ends(clock):
    points = [{"at": clock.now + timedelta(seconds=i), "lat": i, "lon": 0} for i in range(10_000)]
    kept = downsample(points, 100)
    assert len(kept) <= 100
    assert kept[0] is points[0] and kept[-1] is points[-1]
    gaps = [(b["at"] - a["at"]).total_seconds() for a, b in zip(kept[1:-1], kept[2:-1], strict=False)]
    assert max(gaps) - min(gaps) <= 1
    assert downsample(points[:50], 100) == points[:50]


def test_the_trail_query_returns_the_range_in_time_order_downsampled(city, clock, events):
    w = city.workers[0]
    lat, lon = city.point_in(0)
    items = track(w, [(lat + i * 1e-5, lon) for i in range(200)], clock.now - timedelta(minutes=20), step_s=5)
    with events.committing():
        pipeline.ingest(items[100:] + items[:100])  # arrives out of order
    rows = trail(w.id, items[10]["at"], items[189]["at"], max_points=30)
    assert len(rows) == 30
    times = [datetime.fromisoformat(r["at"]) for r in rows]
    assert (times[0], times[-1]) == (items[10]["at"], items[189]["at"])
    assert times == sorted(times)
