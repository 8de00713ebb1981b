"""The Redis-backed live store: several processes (here, store instances) agree on every worker."""

from __future__ import annotations

from datetime import UTC, datetime

from dispatchd.field.redis_store import RedisStore
from dispatchd.field.state import ON_DUTY, Fix, LiveState

AT = datetime(2025, 9, 30, 1, 0, tzinfo=UTC)


def fix_at(worker_id: int, lat: float, lon: float, seconds: float) -> Fix:
    return Fix(worker_id, lat, lon, datetime.fromtimestamp(AT.timestamp() + seconds, tz=UTC), accuracy_m=5)


def test_a_move_in_one_process_is_seen_by_another(redis_url):
    a, b = RedisStore(redis_url), RedisStore(redis_url)
    a.load([LiveState(1, skills=frozenset({"electric"}), duty=ON_DUTY), LiveState(2, duty=ON_DUTY)])
    b.reload()
    a.apply_fix(fix_at(1, 22.705, 114.305, 0))
    a.apply_fix(fix_at(2, 22.709, 114.305, 0))
    hits = b.nearest(22.705, 114.305, 2, skill="electric")
    assert [(s.worker_id, round(d)) for s, d in hits] == [(1, 0)]
    assert b.get(1).lat == 22.705


def test_positions_never_move_back_in_time_across_processes(redis_url):
    a, b = RedisStore(redis_url), RedisStore(redis_url)
    a.load([LiveState(1, duty=ON_DUTY)])
    b.reload()
    assert a.apply_fix(fix_at(1, 22.70, 114.30, 10)) is not None
    assert b.apply_fix(fix_at(1, 22.71, 114.31, 5)) is None  # b had not synced: Redis refuses it
    b.sync()
    assert (b.get(1).lat, b.get(1).t) == (22.70, AT.timestamp() + 10)


def test_busy_set_by_one_process_hides_the_worker_from_another_without_losing_its_position(redis_url):
    a, b = RedisStore(redis_url), RedisStore(redis_url)
    a.load([LiveState(1, duty=ON_DUTY)])
    a.apply_fix(fix_at(1, 22.70, 114.30, 0))
    b.reload()
    b.update(1, busy=True, case_id=42)
    a.apply_fix(fix_at(1, 22.701, 114.30, 1))  # a's view is stale, but a position write keeps busy
    assert a.nearest(22.70, 114.30, 5) == []
    c = RedisStore(redis_url)
    c.reload()
    state = c.get(1)
    assert (state.busy, state.case_id, state.lat) == (True, 42, 22.701)
