"""Position coalescing: at most one batch per tick, latest position per worker, filters, snapshots."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from channels.testing import WebsocketCommunicator
from django.test import override_settings

from realtime import backend, publish_many
from realtime.config import HubConfig
from realtime.connection import Connection, hub_endpoint
from realtime.memory import MemoryStreams
from realtime.positions import PositionBoard, PositionFilter
from wall.auth import Principal

WALL = Principal("w", "wall")


@pytest.fixture(autouse=True)
def in_process_streams() -> Iterator[None]:
    """Fresh in-process streams; a tick short enough for quick tests."""
    with override_settings(REDIS_URL="", WALL_HUB_TICK_S=0.05):
        backend.reset()
        yield
    backend.reset()


def _position(worker: int, lat: float, lon: float, **extra: object) -> dict:
    return {"type": "position", "data": {"worker_id": worker, "lat": lat, "lon": lon, **extra}}


async def _open() -> WebsocketCommunicator:
    async def app(scope, receive, send):
        await hub_endpoint(dict(scope, principal=WALL), receive, send)

    ws = WebsocketCommunicator(app, "/ws/hub")
    assert (await ws.connect())[0]
    assert (await ws.receive_json_from(5))["op"] == "hello"
    return ws


async def _batch(ws: WebsocketCommunicator) -> dict:
    while True:
        message = await ws.receive_json_from(5)
        if message["op"] == "batch":
            return message


async def test_a_new_subscriber_gets_a_snapshot_then_only_the_latest_of_each_moved_worker() -> None:
    publish_many("positions", [_position(1, 22.0, 114.0), _position(2, 22.1, 114.1)])
    ws = await _open()
    await ws.send_json_to({"op": "subscribe", "topic": "positions"})
    subscribed = await ws.receive_json_from(5)
    assert (subscribed["op"], subscribed["coalesced"]) == ("subscribed", True)
    snapshot = await _batch(ws)
    assert snapshot["snapshot"] is True
    assert sorted(item["worker_id"] for item in snapshot["items"]) == [1, 2]
    publish_many("positions", [_position(1, 22.0 + i / 1000, 114.0) for i in range(50)])
    delta = await _batch(ws)
    assert delta["snapshot"] is False
    assert delta["items"] == [{"worker_id": 1, "lat": 22.049, "lon": 114.0}]
    await ws.disconnect()


async def test_filters_select_workers_by_box_and_ids() -> None:
    ws = await _open()
    await ws.send_json_to(
        {"op": "subscribe", "topic": "positions", "filter": {"bbox": [113.9, 21.9, 114.05, 22.05], "grid_id": [7]}}
    )
    assert (await ws.receive_json_from(5))["op"] == "subscribed"
    assert (await _batch(ws))["items"] == []
    publish_many(
        "positions",
        [
            _position(1, 22.0, 114.0, grid_id=7),  # in
            _position(2, 22.0, 114.0, grid_id=8),  # other grid
            _position(3, 23.0, 114.0, grid_id=7),  # outside the box
            _position(4, 22.0, 114.0),  # no grid given
        ],
    )
    assert [item["worker_id"] for item in (await _batch(ws))["items"]] == [1]
    await ws.disconnect()


@pytest.mark.parametrize(
    "raw",
    [[1], {"bbox": [1, 2, 3]}, {"bbox": [3, 0, 1, 1]}, {"bbox": ["a", 0, 1, 1]}, {"colour": "red"}, {"grid_id": []}],
)
def test_malformed_filters_are_refused(raw: object) -> None:
    with pytest.raises(ValueError):
        PositionFilter.parse(raw)


async def test_bad_filter_is_an_error_not_a_subscription() -> None:
    ws = await _open()
    await ws.send_json_to({"op": "subscribe", "topic": "positions", "filter": {"bbox": "everywhere"}})
    error = await ws.receive_json_from(5)
    assert (error["op"], error["code"]) == ("error", "bad_filter")
    await ws.disconnect()


async def test_clients_with_the_same_filter_share_one_serialised_batch() -> None:
    first, second = await _open(), await _open()
    for ws in (first, second):
        await ws.send_json_to({"op": "subscribe", "topic": "positions", "filter": {"department_id": 3}})
        assert (await ws.receive_json_from(5))["op"] == "subscribed"
        await _batch(ws)
    publish_many("positions", [_position(9, 1.0, 2.0, department_id=3)])
    texts = []
    for ws in (first, second):
        while True:
            message = await ws.receive_output(5)
            if json.loads(message["text"])["op"] == "batch":
                texts.append(message["text"])
                break
    assert texts[0] == texts[1]
    for ws in (first, second):
        await ws.disconnect()


async def test_an_unsent_batch_is_replaced_by_a_snapshot_holding_every_worker() -> None:
    streams = MemoryStreams(maxlen=100, max_age_s=3600)
    board = PositionBoard(tick_s=3600)
    conn = Connection({}, None, None, HubConfig())  # type: ignore[arg-type] - nothing is sent here
    conn.batch_snapshot = True
    board.add(conn, PositionFilter())

    def move(worker: int, lat: float) -> None:
        streams.append_many("positions", [_position(worker, lat, 0.0)])
        board.offer(streams.read("positions", streams.read("positions", None, 0).head - 1, 1).events)
        board.flush()

    def items(frame: str | None) -> dict:
        assert frame is not None
        batch = json.loads(frame)
        return {"snapshot": batch["snapshot"], "lat": {i["worker_id"]: i["lat"] for i in batch["items"]}}

    move(1, 1.0)
    assert items(conn.batch) == {"snapshot": True, "lat": {1: 1.0}}
    move(2, 2.0)  # the first batch is still unsent (a slow client): replaced, nothing lost
    assert items(conn.batch) == {"snapshot": True, "lat": {1: 1.0, 2: 2.0}}
    conn.batch = None  # the writer sent it
    move(1, 1.5)
    assert items(conn.batch) == {"snapshot": False, "lat": {1: 1.5}}
    board.remove(conn, PositionFilter())
