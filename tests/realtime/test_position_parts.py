"""Position batches in parts, against a real `wall serve`: decoded by the client, overtaken by events."""

from __future__ import annotations

import asyncio
import json
import random
import time

import pytest
from websockets.asyncio.client import ClientConnection, connect

from realtime.client import HubClient, position_items
from realtime.redis_streams import RedisStreams
from tests.realtime.servers import WallServer


def _positions(first: int, count: int) -> list[dict]:
    now = time.time()
    return [
        {"type": "position", "data": {"worker_id": first + i, "lat": 22.7 + i / 1e7, "lon": 114.3, "at": now,
                                      "state": "on_duty", "grid_id": i % 670}}
        for i in range(count)
    ]


def _unique_ids() -> int:
    """The first of a range of worker ids no other test publishes."""
    return random.randrange(10**6, 10**9) * 100_000


@pytest.mark.parametrize("decode", [True, False], ids=["decoded", "compact"])
async def test_the_python_client_yields_a_large_batch_part_by_part(
    server: WallServer, tokens: dict, producer: RedisStreams, clients: list[HubClient], decode: bool
) -> None:
    first, count = _unique_ids(), 1200
    hub = HubClient(server.ws_url, token=tokens["wall"], heartbeat_s=2, decode_positions=decode)
    clients.append(hub)
    hub.subscribe("positions")
    await hub.start()
    while not ((m := await hub.next(20))["op"] == "batch" and m["snapshot"] and m["part"] == m["parts"]):
        pass  # the snapshot of what other tests published
    await asyncio.to_thread(producer.append_many, "positions", _positions(first, count))
    got: dict[int, dict] = {}
    parts = []
    while len(got) < count:
        message = await hub.next(20)
        if message["op"] != "batch":
            continue
        parts.append((message["part"], message["parts"], len(message["items"])))
        if not decode:  # left as the compact rows of the frame, decoded here
            assert all(isinstance(row, list) for row in message["items"])
        items = message["items"] if decode else position_items(message)
        got.update((item["worker_id"], item) for item in items if item["worker_id"] >= first)
    assert max(of for _, of, _ in parts) >= 3 and all(1 <= part <= of and n <= 500 for part, of, n in parts)
    assert sorted(got) == list(range(first, first + count))
    item = got[first + 7]
    fields = ("lat", "lon", "state", "grid_id", "heading")
    assert tuple(item[name] for name in fields) == (22.700001, 114.3, "on_duty", 7, None)


async def _read(ws: ClientConnection) -> dict:
    async with asyncio.timeout(20):
        return json.loads(await ws.recv())


async def test_an_event_overtakes_a_position_batch_the_client_has_not_consumed(
    server: WallServer, tokens: dict, producer: RedisStreams, topic: str
) -> None:
    first, count = _unique_ids(), 12_000  # about 550 KB of items: twice the position window
    url = f"{server.ws_url}?token={tokens['wall']}"
    async with connect(url, origin=f"http://127.0.0.1:{server.port}", max_size=None) as ws:
        await ws.send(json.dumps({"op": "subscribe", "topic": topic}))
        await ws.send('{"op":"subscribe","topic":"positions"}')
        while not ((m := await _read(ws))["op"] == "batch" and m["snapshot"] and m["part"] == m["parts"]):
            if m["op"] == "ping":
                await ws.send(json.dumps({"op": "pong", "n": m["n"]}))

        mine: set[int] = set()
        unanswered: list[int] = []

        async def read_until(op: str, stalled: bool) -> None:
            """Read up to a frame of `op`, counting our workers; a stalled client answers no ping."""
            while True:
                message = await _read(ws)
                if message["op"] == "ping" and stalled:
                    unanswered.append(message["n"])
                elif message["op"] == "ping":
                    await ws.send(json.dumps({"op": "pong", "n": message["n"]}))
                elif message["op"] == "batch":
                    mine.update(i["worker_id"] for i in position_items(message) if i["worker_id"] >= first)
                if message["op"] == op:
                    return

        await asyncio.to_thread(producer.append_many, "positions", _positions(first, count))
        while not mine:
            await read_until("batch", stalled=True)
        await asyncio.to_thread(producer.append_many, topic, [{"type": "incident.note", "data": {"n": 1}}])
        await read_until("event", stalled=True)
        assert len(mine) < count  # the event came while the rest of the batch waited for the client

        for n in unanswered:
            await ws.send(json.dumps({"op": "pong", "n": n}))
        while len(mine) < count:
            await read_until("batch", stalled=False)
