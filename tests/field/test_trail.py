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


def test_the_trail_writer_stores_every_field_once_and_skips_keys_already_stored(city, clock):
    from dispatchd.field.state import Fix
    from dispatchd.field.trail import write
    from dispatchd.models import PositionFix

    w0, w1 = city.workers[:2]
    fixes = [Fix(w.id, 22.7 + i * 1e-5, 114.3, clock.now - timedelta(seconds=i), accuracy_m=5.0 if i % 2 else None,
                 speed_mps=1.5, heading=None if i % 3 else 90.0) for i in range(50) for w in (w0, w1)]
    write(fixes)
    write(fixes[40:] + [Fix(w0.id, 1.0, 2.0, clock.now)])  # repeats are skipped, the stored row is kept
    assert PositionFix.objects.count() == 100
    stored = {(p.worker_id, p.at): (p.lat, p.lon, p.accuracy_m, p.speed_mps, p.heading)
              for p in PositionFix.objects.all()}
    assert stored == {(f.worker_id, f.at): (f.lat, f.lon, f.accuracy_m, f.speed_mps, f.heading) for f in fixes}
