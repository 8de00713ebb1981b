"""Ringing, decline, busy, missed, mute with remote indication, and reconnecting without ending the call."""

from __future__ import annotations

import pytest

from tests.calls.client import Peer
from tests.calls.conftest import COMMANDER, SECOND, worker
from tests.gb28181.conftest import eventually
from video.calls.model import Busy, Kind
from video.calls.sessions import CallManager, Invitee


async def _ringing_call(manager: CallManager, peer: Peer, worker_id: int = 7):
    session, joined = await manager.create(COMMANDER, Kind.CALL, [Invitee(worker_id=worker_id)], await peer.offer())
    await peer.apply(joined)
    return session


async def test_declining_ends_the_call_and_tells_the_caller(manager, published):
    caller = Peer(slots=1)
    try:
        session = await _ringing_call(manager, caller)
        await manager.decline(session.id, worker(7))
        assert (session.state, session.reason) == ("ended", "declined")
        await eventually(lambda: published.on(session.topic, "call.state")[-1]["reason"] == "declined")
    finally:
        await caller.close()


async def test_a_worker_in_a_call_is_busy_for_another(manager, published):
    caller, other = Peer(slots=1), Peer(slots=1)
    try:
        await _ringing_call(manager, caller)
        with pytest.raises(Busy):
            await manager.create(SECOND, Kind.CALL, [Invitee(worker_id=7)], await other.offer())
        assert len(manager.sessions) == 1
        assert len(published.on("user.7", "call.invite")) == 1
    finally:
        await caller.close()
        await other.close()


async def test_declining_as_busy_ends_with_busy(manager):
    caller = Peer(slots=1)
    try:
        session = await _ringing_call(manager, caller)
        await manager.decline(session.id, worker(7), "busy")
        assert (session.state, session.reason) == ("ended", "busy")
    finally:
        await caller.close()


async def test_an_unanswered_call_is_missed_and_the_phone_stops_ringing(call_settings, published):
    from dataclasses import replace

    manager = CallManager(replace(call_settings, ring_timeout=0.2), published)
    caller = Peer(slots=1)
    try:
        session = await _ringing_call(manager, caller)
        await eventually(lambda: session.state == "ended")
        assert session.reason == "missed"
        await eventually(lambda: any(e["reason"] == "missed" for e in published.on("user.7", "call.invite_closed")))
    finally:
        await caller.close()
        await manager.close()


async def test_muting_stops_forwarding_and_shows_in_the_session_state(manager, published):
    caller, callee = Peer(slots=1), Peer(size=(256, 192), slots=1)
    try:
        session = await _ringing_call(manager, caller)
        await callee.apply(await manager.join(session.id, worker(7), await callee.offer()))
        await eventually(lambda: len(caller.from_size((256, 192)).counters) > 5)
        await manager.mute(session.id, worker(7), audio=True, video=True)
        await eventually(lambda: published.on(session.topic, "call.state")[-1]["participants"][1]["muted"]
                         == {"audio": True, "video": True})
        sources = session.seat_of("worker:7").sources()
        assert sources["video"].paused and sources["audio"].paused
        held = sources["video"].stats.paused_frames
        await eventually(lambda: sources["video"].stats.paused_frames > held + 5)
        await manager.mute(session.id, worker(7), audio=False, video=False)
        frames = len(caller.from_size((256, 192)).counters)
        await eventually(lambda: len(caller.from_size((256, 192)).counters) > frames + 5)
    finally:
        await caller.close()
        await callee.close()


async def test_a_new_connection_replaces_the_old_without_ending_the_call(manager, published):
    caller, callee = Peer(slots=1), Peer(size=(256, 192), slots=1)
    moved = Peer(size=(256, 192), slots=1)  # the worker's phone after a network change
    try:
        session = await _ringing_call(manager, caller)
        await callee.apply(await manager.join(session.id, worker(7), await callee.offer()))
        await eventually(lambda: len(caller.from_size((256, 192)).counters) > 5)
        await callee.close()
        await moved.apply(await manager.reconnect(session.id, worker(7), await moved.offer()))
        frames = len(caller.from_size((256, 192)).counters)
        await eventually(lambda: len(caller.from_size((256, 192)).counters) > frames + 10
                         and len(moved.from_size((320, 240)).counters) > 10)
        assert session.state == "active"
        await eventually(lambda: all(p["state"] == "connected" for p in session.describe()["participants"]))
    finally:
        for peer in (caller, callee, moved):
            await peer.close()


async def test_a_failed_connection_that_does_not_come_back_leaves(call_settings, published):
    from dataclasses import replace

    manager = CallManager(replace(call_settings, reconnect_grace=0.3), published)
    caller, callee = Peer(slots=1), Peer(slots=1)
    try:
        session = await _ringing_call(manager, caller)
        await callee.apply(await manager.join(session.id, worker(7), await callee.offer()))
        await eventually(lambda: all(p["state"] == "connected" for p in session.describe()["participants"]))
        await session.seat_of("worker:7").media.pc.close()  # as if the transport had failed
        await eventually(lambda: session.state == "ended", timeout=5)
        assert session.reason == "disconnected"
    finally:
        await caller.close()
        await callee.close()
        await manager.close()
