"""Shared fixtures: a small city, actors, API clients, the Redis test database."""

from __future__ import annotations

import os

import pytest

from tests.city import SmallCity, build_small_city


@pytest.fixture
def city(db) -> SmallCity:
    """A tiny district: 2 streets, 4 cells, departments, categories, workers."""
    return build_small_city()


@pytest.fixture
def redis_url() -> str:
    """A Redis database index of the test run's own (flushed before use); skips nothing: Redis is required."""
    import redis

    url = os.environ.get("WALL_TEST_REDIS_URL", "redis://127.0.0.1:6379/9")
    client = redis.Redis.from_url(url)
    client.flushdb()
    client.close()
    return url


# Tests that use no database but take long (servers, browsers, faults): `./run test` gives them to the
# PostgreSQL pass, which has fewer tests, so the two passes it runs side by side end at about the same time.
PG_PASS_ALSO_RUNS = ("tests/browser/", "tests/faults/")
DB_FIXTURES = {"db", "transactional_db", "django_db_setup", "live_server", "city"}


def pytest_collection_modifyitems(config, items) -> None:
    """Split the suite between the two passes of `./run test` (WALL_TEST_PASS); without it, run everything.

    `postgres`: the tests that use the database, and those of PG_PASS_ALSO_RUNS. `sqlite`: all but the
    latter's tests that use no database. So every test runs at least once, and every database test on both.
    """
    which = os.environ.get("WALL_TEST_PASS")
    if which not in ("postgres", "sqlite"):
        return

    def keep(item) -> bool:
        uses_db = bool(DB_FIXTURES & set(getattr(item, "fixturenames", ())))
        moved = item.nodeid.startswith(PG_PASS_ALSO_RUNS)
        return uses_db or moved if which == "postgres" else uses_db or not moved

    kept = [item for item in items if keep(item)]
    if deselected := [item for item in items if not keep(item)]:
        config.hook.pytest_deselected(items=deselected)
    items[:] = kept


@pytest.fixture(autouse=True)
def _fresh_field_state():
    """Live worker state and geofence caches are per process: start every test without them."""
    from dispatchd.field import fences, live
    from dispatchd.geo import gridindex

    live.use_store(None)
    fences.invalidate()
    gridindex.invalidate()
    yield
    live.use_store(None)
    fences.invalidate()
    gridindex.invalidate()


@pytest.fixture
def loopback_ice():
    """WebRTC peers of this process offer loopback host candidates only (no STUN, no other interface)."""
    from video.webrtc import use_ice_addresses

    use_ice_addresses(["127.0.0.1"])
    yield
    use_ice_addresses([])
