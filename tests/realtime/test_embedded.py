"""The hub without Redis (embedded mode): the same protocol over the in-process ring buffers."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from channels.testing import WebsocketCommunicator
from django.test import override_settings

from realtime import apublish, backend, publish
from realtime.connection import hub_endpoint
from wall.auth import Principal

WALL = Principal("w", "wall")


@pytest.fixture(autouse=True)
def in_process_streams() -> Iterator[None]:
    """Fresh in-process streams for each test."""
    with override_settings(REDIS_URL="", WALL_HUB_QUEUE_FRAMES=50):
        backend.reset()
        yield
    backend.reset()


def _app(principal: Principal):
    async def app(scope, receive, send):
        await hub_endpoint(dict(scope, principal=principal), receive, send)

    return app


async def _open(principal: Principal = WALL) -> WebsocketCommunicator:
    ws = WebsocketCommunicator(_app(principal), "/ws/hub")
    connected, _ = await ws.connect()
    assert connected
    assert (await ws.receive_json_from(5))["op"] == "hello"
    return ws


async def test_subscribe_then_live_then_resume_with_exactly_the_missed_events() -> None:
    for i in range(5):
        publish("cases", {"type": "case.created", "data": {"i": i}})
    ws = await _open()
    await ws.send_json_to({"op": "subscribe", "topic": "cases"})
    subscribed = await ws.receive_json_from(5)
    assert (subscribed["recovered"], subscribed["offset"], subscribed["missed"]) == (False, 5, [])
    await apublish("cases", {"type": "case.dispatched", "data": {"i": 5}})
    event = await ws.receive_json_from(5)
    assert (event["offset"], event["type"], event["data"]) == (6, "case.dispatched", {"i": 5})
    await ws.disconnect()

    await asyncio.to_thread(publish, "cases", {"type": "case.closed", "data": {}})
    again = await _open()
    await again.send_json_to({"op": "subscribe", "topic": "cases", "since": f"{subscribed['epoch']}:2"})
    resumed = await again.receive_json_from(5)
    assert resumed["recovered"] is True
    assert [e["offset"] for e in resumed["missed"]] == [3, 4, 5, 6, 7]
    assert resumed["offset"] == 7
    await again.disconnect()


async def test_a_long_replay_is_paced_through_the_bounded_queue() -> None:
    for i in range(400):
        publish("alarms", {"type": "alarm.raised", "data": {"i": i}})
    ws = await _open()
    await ws.send_json_to({"op": "subscribe", "topic": "alarms", "since": f"{backend.sync_streams().epoch}:0"})
    subscribed = await ws.receive_json_from(5)
    offsets = [e["offset"] for e in subscribed["missed"]]
    while len(offsets) < 400:
        message = await ws.receive_json_from(5)
        if message["op"] == "event":
            offsets.append(message["offset"])
    assert offsets == list(range(1, 401))
    await ws.disconnect()


async def test_a_client_that_does_not_read_is_closed_as_too_slow() -> None:
    ws = await _open()
    await ws.send_json_to({"op": "subscribe", "topic": "alarms"})
    assert (await ws.receive_json_from(5))["op"] == "subscribed"
    for i in range(5000):  # the communicator never acknowledges pings, so the window fills
        publish("alarms", {"type": "alarm.raised", "data": {"pad": "x" * 400, "i": i}})
    closed = None
    async with asyncio.timeout(10):
        while closed is None:
            message = await ws.receive_output(5)
            if message["type"] == "websocket.close":
                closed = message["code"]
    assert closed == 4008
