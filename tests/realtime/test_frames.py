"""Bad frames get an error and leave the connection (and the server) working."""

from __future__ import annotations

import asyncio
import json

import pytest
import websockets
from websockets.asyncio.client import ClientConnection, connect

from tests.realtime.servers import WallServer


async def _recv(ws: ClientConnection, timeout: float = 10) -> dict:
    async with asyncio.timeout(timeout):
        while True:
            message = json.loads(await ws.recv())
            if message["op"] != "ping":
                return message


@pytest.fixture
async def ws(server: WallServer, tokens: dict):
    """An authenticated raw WebSocket to the hub."""
    url = f"{server.ws_url}?token={tokens['commander']}"
    async with connect(url, origin=f"http://127.0.0.1:{server.port}", max_size=None) as conn:
        assert (await _recv(conn))["op"] == "hello"
        yield conn


async def _still_serves(ws: ClientConnection) -> None:
    await ws.send('{"op":"ping"}')
    assert (await _recv(ws))["op"] == "pong"


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("{not json", "bad_json"),
        ("\x00\xff", "bad_json"),
        ("[1, 2]", "bad_request"),
        ('{"topic": "cases"}', "bad_request"),
        ('{"op": 5}', "bad_request"),
        ('{"op": "launch"}', "unknown_op"),
        ('{"op": "subscribe"}', "bad_topic"),
        ('{"op": "subscribe", "topic": "no such/topic"}', "bad_topic"),
        ('{"op": "subscribe", "topic": {"a": 1}}', "bad_topic"),
        ('{"op": "subscribe", "topic": "cases", "since": "nonsense"}', "bad_since"),
        ('{"op": "subscribe", "topic": "cases", "since": 17}', "bad_since"),
        ('{"op": "unsubscribe", "topic": "cases"}', "not_subscribed"),
        ('{"op": "auth", "token": "x"}', "bad_request"),
    ],
)
async def test_bad_frame_gets_an_error_and_the_connection_keeps_working(
    ws: ClientConnection, frame: str, code: str
) -> None:
    await ws.send(frame)
    error = await _recv(ws)
    assert (error["op"], error["code"]) == ("error", code)
    await _still_serves(ws)


async def test_frame_over_the_size_limit_gets_an_error(ws: ClientConnection) -> None:
    await ws.send(json.dumps({"op": "ping", "pad": "x" * 200_000}))
    error = await _recv(ws)
    assert (error["op"], error["code"]) == ("error", "frame_too_large")
    await _still_serves(ws)


async def test_a_frame_far_over_the_limit_is_cut_by_the_server(ws: ClientConnection) -> None:
    await ws.send(json.dumps({"op": "ping", "pad": "x" * 1_000_000}))
    with pytest.raises(websockets.ConnectionClosed):
        await _recv(ws)
    # Daphne refuses it before it reaches the hub: 1009 "message too big", or a reset if the
    # close frame is lost while the client is still sending
    assert ws.close_code in (1006, 1009)


async def test_binary_frame_gets_an_error(ws: ClientConnection) -> None:
    await ws.send(b'{"op":"ping"}')
    assert (await _recv(ws))["code"] == "binary_not_supported"
    await _still_serves(ws)


async def test_flooding_ops_is_rate_limited(ws: ClientConnection) -> None:
    for _ in range(150):
        await ws.send('{"op":"ping"}')
    replies = [await _recv(ws) for _ in range(61)]
    assert {"op": "error", "code": "rate_limited"} in [
        {"op": r["op"], "code": r.get("code")} for r in replies if r["op"] == "error"
    ]


async def test_unsubscribe_stops_the_events(ws: ClientConnection) -> None:
    await ws.send('{"op":"subscribe","topic":"sensors"}')
    assert (await _recv(ws))["op"] == "subscribed"
    await ws.send('{"op":"unsubscribe","topic":"sensors"}')
    assert await _recv(ws) == {"op": "unsubscribed", "topic": "sensors"}
