"""A worker's field app publishes its own position over the hub, against a real `wall serve`."""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import httpx
from websockets.asyncio.client import ClientConnection, connect

from realtime.client import position_items
from tests.realtime.servers import WallServer


@asynccontextmanager
async def _hub(server: WallServer, token: str) -> AsyncIterator[ClientConnection]:
    url = f"{server.ws_url}?token={token}"
    async with connect(url, origin=f"http://127.0.0.1:{server.port}", max_size=None) as ws:
        assert (await _reply(ws))["op"] == "hello"
        yield ws


async def _reply(ws: ClientConnection, timeout: float = 10) -> dict:
    """The next message that is not a server ping (which is answered) nor a position batch."""
    async with asyncio.timeout(timeout):
        while True:
            message = json.loads(await ws.recv())
            if message["op"] == "ping":
                await ws.send(json.dumps({"op": "pong", "n": message["n"]}))
            elif message["op"] != "batch":
                return message


async def _batch_with(ws: ClientConnection, worker_id: int, lat: float, timeout: float = 10) -> dict:
    async with asyncio.timeout(timeout):
        while True:
            message = json.loads(await ws.recv())
            if message["op"] == "ping":
                await ws.send(json.dumps({"op": "pong", "n": message["n"]}))
            elif message["op"] == "batch":
                for item in position_items(message):
                    if item["worker_id"] == worker_id and item["lat"] == lat:
                        return item


def _trail(server: WallServer, token: str, worker_id: int) -> list[dict]:
    reply = httpx.get(
        f"http://127.0.0.1:{server.port}/api/workers/{worker_id}/trail",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert reply.status_code == 200, reply.text
    return reply.json()


def _fix(**fields: object) -> dict:
    """A fix near the demo district at a moment no other test uses."""
    at = datetime.now(UTC) - timedelta(seconds=random.uniform(0, 30))
    return {"lat": round(22.7 + random.uniform(0, 0.05), 6), "lon": 114.3, "at": at.isoformat(), **fields}


async def test_a_worker_publishes_its_own_position_which_is_stored_and_reaches_subscribers(
    server: WallServer, tokens: dict
) -> None:
    worker_id = tokens["worker_id"]
    async with _hub(server, tokens["wall"]) as wall, _hub(server, tokens["worker"]) as field:
        await wall.send('{"op":"subscribe","topic":"positions"}')
        assert (await _reply(wall))["op"] == "subscribed"
        fix = _fix(accuracy_m=4.5, speed_mps=1.5, at=datetime.now(UTC).isoformat())  # newer than any other fix
        await field.send(json.dumps({"op": "position", "id": "f1", **fix}))
        ack = await _reply(field)
        assert (ack["op"], ack["id"], ack["result"]["accepted"]) == ("ack", "f1", 1)
        item = await _batch_with(wall, worker_id, fix["lat"])
        assert (item["lon"], item["accuracy_m"]) == (114.3, 4.5)
    stored = [(p["lat"], p["lon"]) for p in _trail(server, tokens["worker"], worker_id)]
    assert (fix["lat"], 114.3) in stored


async def test_a_batch_of_fixes_is_acknowledged_as_one(server: WallServer, tokens: dict) -> None:
    fixes = [_fix(), _fix()]
    async with _hub(server, tokens["worker"]) as field:
        await field.send(json.dumps({"op": "positions", "id": 7, "items": fixes}))
        ack = await _reply(field)
    assert (ack["op"], ack["id"], ack["result"]["accepted"]) == ("ack", 7, 2)
    stored = {(p["lat"], p["lon"]) for p in _trail(server, tokens["worker"], tokens["worker_id"])}
    assert {(f["lat"], f["lon"]) for f in fixes} <= stored


async def test_a_worker_cannot_publish_for_another_worker(server: WallServer, tokens: dict) -> None:
    other = tokens["other_worker_id"]
    async with _hub(server, tokens["worker"]) as field:
        await field.send(json.dumps({"op": "position", "worker_id": other, **_fix()}))
        error = await _reply(field)
        await field.send(json.dumps({"op": "positions", "items": [_fix(), {"worker_id": other, **_fix()}]}))
        batch_error = await _reply(field)
    assert (error["op"], error["code"]) == ("error", "forbidden")
    assert (batch_error["op"], batch_error["code"]) == ("error", "forbidden")
    assert _trail(server, tokens["commander"], other) == []


async def test_bad_coordinates_get_an_error_and_nothing_is_stored(server: WallServer, tokens: dict) -> None:
    before = len(_trail(server, tokens["worker"], tokens["worker_id"]))
    async with _hub(server, tokens["worker"]) as field:
        await field.send(json.dumps({"op": "position", "id": 1, **_fix(lat=123.0)}))  # the sink refuses it
        out_of_range = await _reply(field)
        await field.send(json.dumps({"op": "positions", "id": 2, "items": [_fix(), _fix(lon="east")]}))
        malformed = await _reply(field)
        await field.send(json.dumps({"op": "position", "id": 3, **_fix(), "colour": "red"}))
        unknown_key = await _reply(field)
    assert (out_of_range["code"], out_of_range["id"]) == ("invalid_position", 1)
    assert "lat" in json.dumps(out_of_range["detail"])
    assert (malformed["code"], list(malformed["detail"])) == ("invalid_position", ["items[1]"])
    assert unknown_key["code"] == "invalid_position"
    assert len(_trail(server, tokens["worker"], tokens["worker_id"])) == before


async def test_only_the_worker_role_may_publish_positions(server: WallServer, tokens: dict) -> None:
    for role in ("wall", "commander", "device"):
        async with _hub(server, tokens[role]) as ws:
            await ws.send(json.dumps({"op": "position", "id": role, **_fix()}))
            error = await _reply(ws)
        assert (error["op"], error["code"], error["id"]) == ("error", "forbidden", role)


async def test_position_frames_beyond_the_rate_are_refused(server: WallServer, tokens: dict) -> None:
    async with _hub(server, tokens["worker"]) as field:
        for _ in range(15):  # malformed, so none costs a database write; each still takes a token
            await field.send('{"op":"position","lat":"x"}')
        codes = [(await _reply(field))["code"] for _ in range(15)]
    assert codes.count("invalid_position") >= 10  # the burst
    assert "rate_limited" in codes
