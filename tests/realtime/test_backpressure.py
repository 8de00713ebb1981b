"""A hundred stalled clients: server memory stays bounded, they are closed 4008, others are unharmed."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import websockets
from websockets.asyncio.client import ClientConnection, connect

from realtime.client import HubClient
from realtime.redis_streams import RedisStreams
from tests.realtime.servers import WallServer

STALLED = 100
EVENTS = 1500


@pytest.fixture
def tight_server(hub_data: tuple[Path, dict], hub_redis_url: str) -> Iterator[WallServer]:
    """A server with a small send window and queue."""
    proc = WallServer(
        hub_data[0], hub_redis_url, WALL_HUB_SEND_WINDOW_BYTES="65536", WALL_HUB_QUEUE_FRAMES="200"
    ).start()
    yield proc
    proc.stop()


async def _stalled_client(server: WallServer, token: str, topic: str) -> ClientConnection:
    ws = await connect(f"{server.ws_url}?token={token}", origin=f"http://127.0.0.1:{server.port}", max_queue=1)
    await ws.send(json.dumps({"op": "subscribe", "topic": topic}))
    return ws


async def _close_code(ws: ClientConnection) -> int | None:
    with pytest.raises(websockets.ConnectionClosed):
        async with asyncio.timeout(30):
            while True:
                await ws.recv()
    return ws.close_code


async def test_stalled_clients_are_closed_4008_with_bounded_server_memory(
    tight_server: WallServer, tokens: dict, producer: RedisStreams, topic: str, clients: list[HubClient]
) -> None:
    healthy = HubClient(tight_server.ws_url, token=tokens["wall"], heartbeat_s=2)
    healthy.subscribe(topic)
    await healthy.start()
    clients.append(healthy)
    stalled = [await _stalled_client(tight_server, tokens["wall"], topic) for _ in range(STALLED)]
    await asyncio.sleep(0.5)
    rss_before = tight_server.rss_mb()
    received: list[int] = []

    async def read_healthy() -> None:
        while len(received) < EVENTS:
            message = await healthy.next()
            if message["op"] == "event":
                received.append(message["offset"])

    reader = asyncio.create_task(read_healthy())
    pad = "x" * 1000
    for _ in range(0, EVENTS, 50):
        await asyncio.to_thread(
            producer.append_many, topic, [{"type": "case.updated", "data": {"pad": pad}} for _i in range(50)]
        )
        await asyncio.sleep(0.01)
    async with asyncio.timeout(60):
        await reader
    rss_after = tight_server.rss_mb()
    codes = await asyncio.gather(*(_close_code(ws) for ws in stalled))
    assert received == list(range(1, EVENTS + 1))
    assert set(codes) == {4008}
    # 100 clients × (window + queue) is a few MiB here; an unbounded server would hold 150 MiB of frames
    assert rss_after - rss_before < 60, (rss_before, rss_after)
