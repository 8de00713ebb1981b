"""A 1:1 call through the server: ringing, accept, frames both ways, mute, hang-up."""

from __future__ import annotations

from tests.calls.client import Peer
from tests.calls.conftest import COMMANDER, worker
from tests.gb28181.conftest import eventually
from video.calls.model import Kind
from video.calls.sessions import Invitee

A, B = (320, 240), (256, 192)


async def test_commander_calls_worker_and_both_decode_each_other(manager, published):
    caller, callee = Peer(size=A, slots=1), Peer(size=B, slots=1)
    try:
        session, joined = await manager.create(COMMANDER, Kind.CALL, [Invitee(worker_id=7, label="Li")],
                                               await caller.offer())
        await caller.apply(joined)
        assert session.state == "ringing"
        invite = published.on("user.7", "call.invite")[0]
        assert invite["call"] == session.id and invite["kind"] == "call"

        await callee.apply(await manager.join(session.id, worker(7), await callee.offer()))
        await eventually(lambda: len(callee.from_size(A).counters) > 10 and len(caller.from_size(B).counters) > 10)
        await eventually(lambda: callee.audio_frames() > 10 and caller.audio_frames() > 10)
        assert session.state == "active"
        assert session.transcoded() == []
        counters = callee.from_size(A).counters
        assert all((b - a) % 50 in (1, 2, 3) for a, b in zip(counters, counters[1:], strict=False))
    finally:
        await caller.close()
        await callee.close()


async def test_hangup_ends_the_call_for_both(manager, published):
    caller, callee = Peer(slots=1), Peer(slots=1)
    try:
        session, joined = await manager.create(COMMANDER, Kind.CALL, [Invitee(worker_id=7)], await caller.offer())
        await caller.apply(joined)
        await callee.apply(await manager.join(session.id, worker(7), await callee.offer()))
        await eventually(lambda: all(p["state"] == "connected" for p in session.describe()["participants"]))
        await manager.hangup(session.id, worker(7))
        assert session.state == "ended" and session.reason == "hangup"
        assert not manager.sessions
        assert all(p.media is None for p in session.participants.values())
        await eventually(lambda: published.on(session.topic, "call.state")[-1]["state"] == "ended")
    finally:
        await caller.close()
        await callee.close()
