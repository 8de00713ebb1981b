"""Fuzzing the hub protocol: random and mutated frames against a real server never crash, hang or leak.

Each input goes over a real WebSocket to a `wall serve` process, followed by a ping: the server must answer
the ping (every reply on the way a well-formed frame) or close the connection with a documented code, and
after all the inputs a bystander connection still receives a published event. The number of inputs tried
is printed.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import ExitStack

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from realtime.protocol import Close
from tests.realtime.servers import WallServer

OPS = ("subscribe", "unsubscribe", "ping", "pong", "auth", "position", "positions", "launch", "")
REPLIES = {"hello", "pong", "error", "subscribed", "unsubscribed", "event", "batch", "ack", "ping"}
CLOSES = {int(code) for code in Close} | {1000, 1009}
TRIED = {"frames": 0, "closed": 0}

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63) | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=6) | st.dictionaries(st.text(max_size=12), inner, max_size=6),
    max_leaves=25,
)
structured = st.fixed_dictionaries(
    {"op": st.sampled_from(OPS)},
    optional={
        "topic": st.sampled_from(["cases", "positions", "alarms", "user.1", "incident.7", "call.x", "a/b", ""])
        | json_values,
        "since": st.sampled_from(["", "0:0", "abc:1", "e:-1", "e:99999999999999999999"]) | json_values,
        "filter": json_values,
        "items": json_values,
        "token": json_values,
        "n": json_values,
        "id": json_values,
    },
).map(json.dumps)
VALID = ['{"op":"subscribe","topic":"cases"}', '{"op":"subscribe","topic":"positions","filter":{"bbox":[1,2,3,4]}}',
         '{"op":"unsubscribe","topic":"cases"}', '{"op":"ping"}', '{"op":"pong","n":1}']
mutated = st.tuples(st.sampled_from(VALID), st.integers(0, 60), st.integers(0, 4), st.text(max_size=6)).map(
    lambda m: m[0][: m[1]] + m[3] + m[0][m[1] + m[2]:]
)
frames = st.one_of(st.text(max_size=300), st.binary(max_size=300), structured, mutated, json_values.map(json.dumps))


@pytest.fixture(scope="module")
def fuzz_server(hub_data, hub_redis_url) -> Iterator[WallServer]:
    """A server of its own with rate limits out of the way, so every input reaches the protocol code."""
    server = WallServer(hub_data[0], hub_redis_url, WALL_HUB_OPS_PER_S="100000", WALL_HUB_OPS_BURST="100000",
                        WALL_HUB_POSITION_OPS_PER_S="100000", WALL_HUB_POSITION_OPS_BURST="100000",
                        WALL_HUB_HEARTBEAT_S="5").start()
    yield server
    server.stop()


class Link:
    """One authenticated connection, opened again whenever the server closed it."""

    def __init__(self, server: WallServer, token: str) -> None:
        self.url = f"{server.ws_url}?token={token}"
        self.origin = f"http://127.0.0.1:{server.port}"
        self.ws: ClientConnection | None = None
        self.held = ExitStack()

    def get(self) -> ClientConnection:
        """The open connection (a new one after the server closed the last)."""
        if self.ws is None:
            self.ws = self.held.enter_context(connect(self.url, origin=self.origin, max_size=None, open_timeout=10))
            assert json.loads(self.ws.recv(timeout=10))["op"] == "hello"
        return self.ws

    def try_frame(self, frame: str | bytes) -> None:
        """Send the input and a ping; every reply until the pong must be a well-formed frame."""
        ws = self.get()
        try:
            ws.send(frame)
            ws.send('{"op":"ping"}')
            while True:
                reply = json.loads(ws.recv(timeout=10))
                assert isinstance(reply, dict) and reply.get("op") in REPLIES, reply
                if reply["op"] == "ping":
                    ws.send(json.dumps({"op": "pong", "n": reply["n"]}))
                if reply["op"] == "pong":
                    return
        except ConnectionClosed as closed:
            code = closed.rcvd.code if closed.rcvd else None
            assert code in CLOSES, f"closed with {code} after {frame!r}"
            TRIED["closed"] += 1
            self.ws = None
            self.held.close()


@pytest.fixture(scope="module")
def links(fuzz_server: WallServer, tokens: dict) -> Iterator[dict[str, Link]]:
    """A connection as a commander and one as a field worker (whose position ops reach the ingest)."""
    opened = {role: Link(fuzz_server, tokens[role]) for role in ("commander", "worker")}
    yield opened
    for link in opened.values():
        link.held.close()


@pytest.mark.parametrize("role", ["commander", "worker"])
@settings(max_examples=250, deadline=None, suppress_health_check=list(HealthCheck))
@given(frame=frames)
def test_random_and_mutated_frames_get_answers_never_a_crash(links: dict, role: str, frame: str | bytes) -> None:
    TRIED["frames"] += 1
    links[role].try_frame(frame)


def test_after_the_fuzzing_the_server_still_delivers_events(fuzz_server: WallServer, tokens: dict, producer) -> None:
    print(f"\nhub fuzz: {TRIED['frames']} frames tried, {TRIED['closed']} connections closed by the server")
    assert fuzz_server.proc is not None and fuzz_server.proc.poll() is None
    topic = f"incident.{uuid.uuid4().hex[:12]}"
    with connect(f"{fuzz_server.ws_url}?token={tokens['commander']}", origin=f"http://127.0.0.1:{fuzz_server.port}",
                 open_timeout=10) as ws:
        assert json.loads(ws.recv(timeout=10))["op"] == "hello"
        ws.send(json.dumps({"op": "subscribe", "topic": topic}))
        assert json.loads(ws.recv(timeout=10))["op"] == "subscribed"
        producer.append_many(topic, [{"type": "incident.note", "data": {"text": "still here"}}])
        while (message := json.loads(ws.recv(timeout=10)))["op"] == "ping":
            pass
        assert message["op"] == "event" and message["data"] == {"text": "still here"}
    assert fuzz_server.rss_mb() < 600
