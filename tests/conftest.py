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


def pytest_collection_modifyitems(config, items) -> None:
    """With WALL_DB_ONLY=1 (the PostgreSQL pass) keep only the tests that use the database."""
    if os.environ.get("WALL_DB_ONLY") != "1":
        return
    db_fixtures = {"db", "transactional_db", "django_db_setup", "live_server", "city"}
    keep = [item for item in items if db_fixtures & set(getattr(item, "fixturenames", ()))]
    deselected = [item for item in items if item not in keep]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
    items[:] = keep


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
