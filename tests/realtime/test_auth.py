"""Who may connect and subscribe, against a real `wall serve`."""

from __future__ import annotations

import asyncio
import json

import pytest
import websockets
from websockets.asyncio.client import ClientConnection, connect

from realtime.client import HubClient, HubRefused
from tests.realtime.servers import WallServer


def _origin(server: WallServer) -> str:
    return f"http://127.0.0.1:{server.port}"


async def _recv(ws: ClientConnection, timeout: float = 10) -> dict:
    async with asyncio.timeout(timeout):
        return json.loads(await ws.recv())


async def _closed_with(ws: ClientConnection, timeout: float = 10) -> int | None:
    async with asyncio.timeout(timeout):
        with pytest.raises(websockets.ConnectionClosed):
            while True:
                await ws.recv()
    return ws.close_code


async def test_query_token_gets_hello_with_its_role(server: WallServer, tokens: dict) -> None:
    async with connect(f"{server.ws_url}?token={tokens['commander']}", origin=_origin(server)) as ws:
        hello = await _recv(ws)
        assert (hello["op"], hello["role"]) == ("hello", "commander")


async def test_first_frame_token_authenticates(server: WallServer, tokens: dict) -> None:
    async with connect(server.ws_url, origin=_origin(server)) as ws:
        await ws.send(json.dumps({"op": "auth", "token": tokens["wall"]}))
        hello = await _recv(ws)
        assert (hello["op"], hello["role"]) == ("hello", "wall")
        await ws.send(json.dumps({"op": "subscribe", "topic": "cases"}))
        assert (await _recv(ws))["op"] == "subscribed"


async def test_unknown_query_token_is_closed_4001(server: WallServer) -> None:
    async with connect(f"{server.ws_url}?token=wt_nope", origin=_origin(server)) as ws:
        error = await _recv(ws)
        assert (error["op"], error["code"]) == ("error", "unauthenticated")
        assert await _closed_with(ws) == 4001


async def test_unknown_first_frame_token_is_closed_4001(server: WallServer) -> None:
    async with connect(server.ws_url, origin=_origin(server)) as ws:
        await ws.send(json.dumps({"op": "auth", "token": "wt_forged"}))
        assert await _closed_with(ws) == 4001


async def test_no_credentials_in_time_is_closed_4001(server: WallServer) -> None:
    async with connect(server.ws_url, origin=_origin(server)) as ws:
        assert await _closed_with(ws) == 4001


async def test_subscribing_before_auth_is_closed_4001(server: WallServer) -> None:
    async with connect(server.ws_url, origin=_origin(server)) as ws:
        await ws.send(json.dumps({"op": "subscribe", "topic": "cases"}))
        assert await _closed_with(ws) == 4001


async def test_client_library_stops_on_refusal_instead_of_retrying(server: WallServer) -> None:
    client = HubClient(server.ws_url, token="wt_revoked", backoff_s=0.01)
    await client.start()
    with pytest.raises(HubRefused):
        async with asyncio.timeout(10):
            async for message in client:
                assert message["code"] == "unauthenticated"
    assert client.connects == 1
    await client.close()


async def test_foreign_origin_is_refused_at_the_handshake(server: WallServer, tokens: dict) -> None:
    with pytest.raises(websockets.InvalidStatus) as refused:
        async with connect(f"{server.ws_url}?token={tokens['admin']}", origin="http://evil.example"):
            pass
    assert refused.value.response.status_code == 403


@pytest.mark.parametrize(
    ("role", "topic", "allowed"),
    [
        ("worker", "user.{own}", True),
        ("worker", "user.{other}", False),
        ("worker", "cases", False),
        ("wall", "user.{own}", False),
        ("wall", "alarms", True),
        ("device", "cases", False),
        ("admin", "user.{other}", True),
    ],
)
async def test_topic_permissions_follow_the_role(
    server: WallServer, tokens: dict, role: str, topic: str, allowed: bool
) -> None:
    topic = topic.format(own=tokens["worker_id"], other=tokens["other_worker_id"])
    async with connect(f"{server.ws_url}?token={tokens[role]}", origin=_origin(server)) as ws:
        assert (await _recv(ws))["op"] == "hello"
        await ws.send(json.dumps({"op": "subscribe", "topic": topic}))
        reply = await _recv(ws)
        if allowed:
            assert (reply["op"], reply["topic"]) == ("subscribed", topic)
        else:
            assert (reply["op"], reply["code"], reply["topic"]) == ("error", "forbidden", topic)
            await ws.send(json.dumps({"op": "ping"}))
            assert (await _recv(ws))["op"] == "pong"
