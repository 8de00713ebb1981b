"""Position coalescing: at most one batch per tick, latest position per worker, filters, snapshots, parts."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Iterator

import pytest
from channels.testing import WebsocketCommunicator
from django.test import override_settings

from realtime import backend, publish_many
from realtime.client import position_items
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
    """The next batch part, its items decoded."""
    while True:
        message = await ws.receive_json_from(5)
        if message["op"] == "batch":
            return message | {"items": position_items(message)}


def _ids(batch: dict) -> list:
    return sorted(item["worker_id"] for item in batch["items"])


async def test_a_new_subscriber_gets_a_snapshot_then_only_the_latest_of_each_moved_worker() -> None:
    publish_many("positions", [_position(1, 22.0, 114.0), _position(2, 22.1, 114.1)])
    ws = await _open()
    await ws.send_json_to({"op": "subscribe", "topic": "positions"})
    subscribed = await ws.receive_json_from(5)
    assert (subscribed["op"], subscribed["coalesced"]) == ("subscribed", True)
    snapshot = await _batch(ws)
    assert (snapshot["snapshot"], snapshot["part"], snapshot["parts"]) == (True, 1, 1)
    assert _ids(snapshot) == [1, 2]
    publish_many("positions", [_position(1, 22.0 + i / 1000, 114.0) for i in range(50)])
    delta = await _batch(ws)
    assert delta["snapshot"] is False
    assert [(item["worker_id"], item["lat"], item["lon"]) for item in delta["items"]] == [(1, 22.049, 114.0)]
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
    assert _ids(await _batch(ws)) == [1]
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


async def test_items_are_compact_arrays_named_by_the_fields_header() -> None:
    at = "2024-05-01T10:00:00.26+08:00"  # 1714528800.26 epoch seconds
    raw = {"lat": 22.12345678, "lon": 114.987654321, "at": at, "state": "busy", "status": "busy", "grid_id": 7}
    publish_many("positions", [_position(1, **raw, accuracy_m=None, heading=None, colour="red")])
    ws = await _open()
    await ws.send_json_to({"op": "subscribe", "topic": "positions"})
    assert (await ws.receive_json_from(5))["op"] == "subscribed"
    while (frame := await ws.receive_json_from(5))["op"] != "batch":
        pass
    assert frame["v"] == 2
    assert frame["fields"][:5] == ["worker_id", "lat", "lon", "t", "state"]
    assert frame["states"] == ["busy"]
    assert frame["items"] == [[1, 22.123457, 114.987654, 1714528800.3, 0, 7]]  # trailing nulls left out
    (item,) = position_items(frame)
    assert item == dict.fromkeys(frame["fields"]) | {
        "worker_id": 1, "lat": 22.123457, "lon": 114.987654, "t": 1714528800.3, "state": "busy", "grid_id": 7
    }
    await ws.disconnect()


async def test_odd_values_in_position_items_are_carried_or_nulled_never_break_the_batch() -> None:
    publish_many("positions", [
        _position(1, float("nan"), 114.5, speed_mps=float("inf")),  # NaN and Infinity: null in the stream already
        # past 64 bits: encoded by the standard encoder, so its NaN reaches the stream and is nulled on the way out
        _position(2, 22, 114, grid_id=2**70 + 1, street_id="街道一", accuracy_m=float("nan")),
        _position(3, 1e300, -1e-7, heading=90.5),
    ])
    ws = await _open()
    await ws.send_json_to({"op": "subscribe", "topic": "positions"})
    items = {item["worker_id"]: item for item in (await _batch(ws))["items"]}
    assert (items[1]["lat"], items[1]["lon"], items[1]["speed_mps"]) == (None, 114.5, None)
    second = (items[2]["lat"], items[2]["lon"], items[2]["grid_id"], items[2]["street_id"])
    assert second == (22, 114, float(2**70 + 1), "街道一")  # past 64 bits: may arrive as a float (protocol.md)
    assert (items[3]["lat"], items[3]["lon"], items[3]["heading"]) == (1e300, -0.0, 90.5)
    await ws.disconnect()


@pytest.fixture
def parts_of_two() -> Iterator[None]:
    """Batch frames of at most two items."""
    with override_settings(WALL_HUB_BATCH_PART_ITEMS=2):
        backend.reset()
        yield
    backend.reset()


async def test_a_large_batch_comes_in_parts_each_marked_and_together_complete(parts_of_two: None) -> None:
    publish_many("positions", [_position(worker, 22.0, 114.0) for worker in range(1, 6)])
    ws = await _open()
    await ws.send_json_to({"op": "subscribe", "topic": "positions"})
    assert (await ws.receive_json_from(5))["op"] == "subscribed"
    snapshot = [await _batch(ws) for _ in range(3)]
    assert [(b["snapshot"], b["part"], b["parts"]) for b in snapshot] == [(True, 1, 3), (True, 2, 3), (True, 3, 3)]
    assert sorted(i for b in snapshot for i in _ids(b)) == [1, 2, 3, 4, 5]
    publish_many("positions", [_position(worker, 23.0, 114.0) for worker in (2, 4, 5)])
    delta = [await _batch(ws), await _batch(ws)]
    assert [(b["snapshot"], b["part"], b["parts"]) for b in delta] == [(False, 1, 2), (False, 2, 2)]
    assert sorted(i for b in delta for i in _ids(b)) == [2, 4, 5]
    await ws.disconnect()


def _decoded(frame: str) -> dict:
    message = json.loads(frame)
    return message | {"items": position_items(message)} if message["op"] == "batch" else message


def _frames(conn: Connection) -> list[dict]:
    """What the writer of `conn` may send now, in order (position items decoded)."""
    sent = []
    while (frame := conn._next_frame()[0]) is not None:
        sent.append(_decoded(frame))
    return sent


def _summary(batch: dict) -> tuple:
    return batch["snapshot"], batch["part"], batch["parts"], _ids(batch)


class _Ticks:
    """A board fed from in-process streams, one tick per call."""

    def __init__(self, part_items: int) -> None:
        self.streams = MemoryStreams(maxlen=100, max_age_s=3600)
        self.board = PositionBoard(tick_s=3600, part_items=part_items)

    def __call__(self, *workers: int) -> None:
        head = self.streams.read("positions", None, 0).head
        self.streams.append_many("positions", [_position(worker, 22.0, 114.0) for worker in workers])
        self.board.offer(self.streams.read("positions", head, 100).events)
        self.board.flush()


async def test_a_batch_being_sent_is_finished_first_and_one_not_started_is_replaced_by_a_snapshot() -> None:
    tick = _Ticks(part_items=2)
    conn = Connection({}, None, None, HubConfig())  # type: ignore[arg-type] - nothing is sent here
    conn.batch_snapshot = True
    tick.board.add(conn, PositionFilter())
    tick(1, 2, 3)
    first = conn._next_frame()[0]  # the writer has sent part 1 of the snapshot when the next tick comes
    assert first is not None and _summary(_decoded(first)) == (True, 1, 2, [1, 2])
    tick(4)
    assert [_summary(b) for b in _frames(conn)] == [(True, 2, 2, [3]), (False, 1, 1, [4])]
    tick(5)
    tick(6)  # the batch of worker 5 has not started (a slow client): the snapshot replaces it
    assert [_summary(b) for b in _frames(conn)] == [(True, 1, 3, [1, 2]), (True, 2, 3, [3, 4]), (True, 3, 3, [5, 6])]
    tick.board.remove(conn, PositionFilter())


async def test_events_go_before_position_parts_and_parts_wait_for_the_position_window() -> None:
    tick = _Ticks(part_items=1)
    conn = Connection({}, None, None, HubConfig(position_window_bytes=1000))  # type: ignore[arg-type]
    tick.board.add(conn, PositionFilter())
    tick(1, 2)
    first = conn._next_frame()[0]
    assert first is not None and _summary(_decoded(first)) == (False, 1, 2, [1])
    conn.push('{"op":"event","n":1}')
    assert [(m["op"], m.get("part")) for m in _frames(conn)] == [("event", None), ("batch", 2)]
    conn.sent = conn.acked + 1001  # more than the position window unacknowledged
    tick(3)
    conn.push('{"op":"event","n":2}')
    assert _frames(conn) == [{"op": "event", "n": 2}]  # events still go, positions wait
    conn.acked = conn.sent
    assert [_summary(b) for b in _frames(conn)] == [(False, 1, 1, [3])]
    tick.board.remove(conn, PositionFilter())


async def test_the_parts_of_a_batch_are_spread_over_the_spread_time_and_events_go_between_them() -> None:
    with override_settings(WALL_HUB_BATCH_PART_ITEMS=1, WALL_HUB_POSITION_SPREAD_S=0.4, WALL_HUB_TICK_S=1.0):
        backend.reset()
        publish_many("positions", [_position(worker, 22.0, 114.0) for worker in range(1, 5)])
        ws = await _open()
        await ws.send_json_to({"op": "subscribe", "topic": "positions"})
        assert (await ws.receive_json_from(5))["op"] == "subscribed"
        loop = asyncio.get_running_loop()
        first = await _batch(ws)
        arrived = [loop.time()]
        await ws.send_json_to({"op": "ping"})  # answered at once, between two parts
        assert (await ws.receive_json_from(5)) == {"op": "pong"}
        assert loop.time() - arrived[0] < 0.08  # the pong did not wait for the held part
        rest = []
        for _ in range(3):
            rest.append(await _batch(ws))
            arrived.append(loop.time())
        await ws.disconnect()
    assert [(b["part"], b["parts"]) for b in [first, *rest]] == [(1, 4), (2, 4), (3, 4), (4, 4)]
    gaps = [later - earlier for earlier, later in itertools.pairwise(arrived)]
    assert all(gap >= 0.09 for gap in gaps), gaps  # 0.4 s over 4 parts: one part every 0.1 s


def _strict(frame: str) -> dict:
    """Parse as a browser's JSON.parse does: NaN and Infinity are not JSON."""
    def refuse(constant: str) -> None:
        raise ValueError(f"{constant} in a frame")

    return json.loads(frame, parse_constant=refuse)


@pytest.mark.parametrize("big", [None, 2**70], ids=["orjson", "past-64-bits"])
async def test_non_finite_numbers_in_event_data_arrive_as_null_in_standard_json(big: int | None) -> None:
    from realtime import publish

    ws = await _open()
    await ws.send_json_to({"op": "subscribe", "topic": "cases"})
    assert _strict(await ws.receive_from(5))["op"] == "subscribed"
    data = {"id": 1, "score": float("nan"), "limits": [float("inf"), 2.5, {"low": float("-inf")}], "big": big}
    publish("cases", {"type": "case.updated", "data": data})
    while (frame := _strict(await ws.receive_from(5)))["op"] != "event":
        pass
    assert frame["data"] == {"id": 1, "score": None, "limits": [None, 2.5, {"low": None}], "big": big}
    await ws.disconnect()
