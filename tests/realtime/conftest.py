"""Fixtures of the hub tests: tokens, a shared `wall serve` on the test Redis, hub clients."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import redis

from realtime.client import HubClient
from realtime.redis_streams import RedisStreams
from tests.realtime.servers import WallServer, prepare_data_dir


@pytest.fixture(scope="session")
def hub_redis_url() -> str:
    """The test Redis database, flushed once for the hub tests (each test uses its own topics)."""
    url = os.environ.get("WALL_TEST_REDIS_URL", "redis://127.0.0.1:6379/9")
    client = redis.Redis.from_url(url)
    client.flushdb()
    client.close()
    return url


@pytest.fixture(scope="session")
def hub_data(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """A migrated data dir and one token per role in it."""
    path = tmp_path_factory.mktemp("hubdata")
    return path, prepare_data_dir(path)


@pytest.fixture(scope="session")
def tokens(hub_data: tuple[Path, dict]) -> dict:
    """Token per role, plus `worker_id` (the worker token's) and `other_worker_id`."""
    return hub_data[1]


@pytest.fixture(scope="session")
def server(hub_data: tuple[Path, dict], hub_redis_url: str) -> Iterator[WallServer]:
    """One `wall serve` on the test Redis, shared by the tests of the session."""
    proc = WallServer(hub_data[0], hub_redis_url, WALL_HUB_AUTH_TIMEOUT_S="1", WALL_HUB_HEARTBEAT_S="2").start()
    yield proc
    proc.stop()


@pytest.fixture
def topic() -> str:
    """A topic no other test uses."""
    return f"incident.{uuid.uuid4().hex[:12]}"


@pytest.fixture
def producer(hub_redis_url: str) -> Iterator[RedisStreams]:
    """Appends events to the test Redis as a producer process would."""
    streams = RedisStreams(hub_redis_url, maxlen=20_000, max_age_s=3600)
    yield streams
    streams.close()


@pytest.fixture
async def clients() -> AsyncIterator[list[HubClient]]:
    """A list to put hub clients in; all closed at teardown."""
    made: list[HubClient] = []
    yield made
    for client in made:
        await client.close()
