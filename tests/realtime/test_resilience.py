"""Several server processes, server crashes and Redis restarts: clients end with every event once.

These tests run their own redis-server (append-only, fsync always) so they may restart it.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from realtime.client import HubClient
from realtime.deferral import DeferringStreams
from realtime.redis_streams import RedisStreams
from tests.realtime.servers import RedisServer, WallServer

N_EVENTS = 2000


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A redis-server of this test alone."""
    server = RedisServer(tmp_path).start()
    yield server
    server.stop()


@pytest.fixture
def servers(hub_data: tuple[Path, dict], private_redis: RedisServer) -> Iterator[list[WallServer]]:
    """Two `wall serve` processes on the private Redis."""
    procs = [WallServer(hub_data[0], private_redis.url, WALL_HUB_HEARTBEAT_S="2") for _ in range(2)]
    for proc in procs:
        proc.start()
    yield procs
    for proc in procs:
        proc.stop()


@pytest.fixture
def deferring_producer(private_redis: RedisServer) -> Iterator[DeferringStreams]:
    """A producer that keeps what it could not append while Redis is down."""
    streams = DeferringStreams(RedisStreams(private_redis.url, maxlen=20_000, max_age_s=3600))
    yield streams
    streams.streams.close()


def _publish(producer: DeferringStreams, total: int, deferred: list[int] | None = None) -> None:
    for i in range(total):
        if producer.append_many("cases", [{"type": "case.updated", "data": {"i": i}}]) == 0 and deferred is not None:
            deferred.append(i)
        if i % 50 == 0:
            time.sleep(0.005)


async def _subscribed_clients(urls: list[str], token: str, clients: list[HubClient]) -> list[list[int]]:
    got: list[list[int]] = []
    for url in urls:
        client = HubClient(url, token=token, heartbeat_s=2, backoff_s=0.05, backoff_max_s=0.5)
        client.subscribe("cases")
        await client.start()
        clients.append(client)
        offsets: list[int] = []
        got.append(offsets)
        async with asyncio.timeout(10):
            while (await client.next())["op"] != "subscribed":
                pass
    return got


async def _collect_all(clients: list[HubClient], got: list[list[int]], total: int, timeout: float = 60) -> None:
    async def one(client: HubClient, offsets: list[int]) -> None:
        while not offsets or offsets[-1] < total:
            message = await client.next()
            if message["op"] == "event":
                offsets.append(message["offset"])
            assert message.get("recovered", True), message

    async with asyncio.timeout(timeout):
        await asyncio.gather(*(one(c, g) for c, g in zip(clients, got, strict=True)))


async def test_an_event_published_once_reaches_clients_of_both_server_processes(
    servers: list[WallServer], tokens: dict, deferring_producer: DeferringStreams, clients: list[HubClient]
) -> None:
    got = await _subscribed_clients([s.ws_url for s in servers], tokens["wall"], clients)
    await asyncio.to_thread(_publish, deferring_producer, 200)
    await _collect_all(clients, got, 200)
    assert got == [list(range(1, 201))] * 2


async def test_after_a_server_is_killed_and_restarted_its_clients_miss_nothing(
    servers: list[WallServer], tokens: dict, deferring_producer: DeferringStreams, clients: list[HubClient]
) -> None:
    got = await _subscribed_clients([servers[0].ws_url] * 2, tokens["wall"], clients)
    publisher = threading.Thread(target=_publish, args=(deferring_producer, N_EVENTS))
    publisher.start()
    while not got[0] or got[0][-1] < N_EVENTS // 4:
        message = await clients[0].next(10)
        if message["op"] == "event":
            got[0].append(message["offset"])
    servers[0].kill()
    servers[0].start()
    await asyncio.to_thread(publisher.join)
    await _collect_all(clients, got, N_EVENTS)
    assert got == [list(range(1, N_EVENTS + 1))] * 2
    assert all(client.connects >= 2 for client in clients)


async def test_a_redis_restart_mid_stream_loses_no_accepted_event(
    servers: list[WallServer],
    tokens: dict,
    private_redis: RedisServer,
    deferring_producer: DeferringStreams,
    clients: list[HubClient],
) -> None:
    got = await _subscribed_clients([s.ws_url for s in servers], tokens["wall"], clients)
    deferred: list[int] = []
    publisher = threading.Thread(target=_publish, args=(deferring_producer, N_EVENTS, deferred))
    publisher.start()
    await asyncio.sleep(0.3)
    private_redis.stop()
    await asyncio.sleep(1.0)
    private_redis.start_on_same_port()
    await asyncio.to_thread(publisher.join)
    assert await asyncio.to_thread(deferring_producer.wait_flushed, 30)
    assert deferred, "some events were published while Redis was down"
    await _collect_all(clients, got, N_EVENTS)
    assert got == [list(range(1, N_EVENTS + 1))] * 2
