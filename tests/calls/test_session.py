"""Three-party dispatch sessions: everyone decodes everyone else, late join, keyframe requests, transcoding."""

from __future__ import annotations

import asyncio

from tests.calls.client import Peer
from tests.calls.conftest import COMMANDER, SECOND, worker
from tests.gb28181.conftest import eventually
from video.calls.forwarding import KEYFRAME_INTERVAL
from video.calls.model import Caller, Kind
from video.calls.sessions import Invitee

A, B, C = (320, 240), (256, 192), (384, 288)
VP8_DESK = Caller("commander:vp8", "commander", "VP8 desk")


def _counting(received) -> bool:
    """Frame counters that advance one picture at a time (allowing for an odd dropped frame)."""
    counters = received.counters
    return len(counters) > 10 and all((b - a) % 50 in (1, 2, 3) for a, b in zip(counters, counters[1:], strict=False))


async def test_three_parties_each_decode_the_other_two_with_a_late_joiner(manager):
    commander, field, department = Peer(size=A), Peer(size=B), Peer(size=C)
    try:
        session, joined = await manager.create(COMMANDER, Kind.SESSION, [Invitee(worker_id=3)], await commander.offer())
        await commander.apply(joined)
        await field.apply(await manager.join(session.id, worker(3), await field.offer()))
        await eventually(lambda: _counting(commander.from_size(B)) and _counting(field.from_size(A)))

        await department.apply(await manager.join(session.id, SECOND, await department.offer()))  # late
        await eventually(lambda: all(_counting(peer.from_size(size)) for peer, size in [
            (commander, C), (field, C), (department, A), (department, B)]))
        await eventually(lambda: all(p.audio_frames() > 20 for p in (commander, field, department)))
        assert session.transcoded() == []
        ids = {p.identity: p.id for p in session.participants.values()}
        shown = {p["id"]: {s["participant"] for s in p["slots"]} for p in session.describe()["participants"]}
        assert shown[ids["worker:3"]] == {ids[COMMANDER.identity], ids[SECOND.identity]}
    finally:
        for peer in (commander, field, department):
            await peer.close()


async def test_a_receivers_keyframe_request_reaches_the_sender(manager):
    sender, receiver = Peer(size=A, slots=1), Peer(size=B, slots=1)
    try:
        session, joined = await manager.create(COMMANDER, Kind.SESSION, [], await sender.offer())
        await sender.apply(joined)
        await receiver.apply(await manager.join(session.id, SECOND, await receiver.offer()))
        await eventually(lambda: _counting(receiver.from_size(A)))
        await asyncio.sleep(KEYFRAME_INTERVAL)  # requests are coalesced per interval: let the join's one pass
        before = sender.keyframe_requests
        slot = next(t for t in receiver.pc.getTransceivers() if t.mid == receiver.slot_mids()[0])
        ssrc = slot.receiver.getSynchronizationSources()[0].source
        await slot.receiver._send_rtcp_pli(ssrc)  # what a browser does after a loss
        await eventually(lambda: sender.keyframe_requests > before)
        source = session.seat_of(COMMANDER.identity).sources()["video"]
        assert source.stats.keyframe_requests >= 1
    finally:
        await sender.close()
        await receiver.close()


async def test_a_vp8_only_peer_is_transcoded_for_that_pair_only(manager):
    h264_a, h264_b, vp8 = Peer(size=A), Peer(size=B), Peer(size=C, codec="video/vp8")
    try:
        session, joined = await manager.create(COMMANDER, Kind.SESSION, [], await h264_a.offer())
        await h264_a.apply(joined)
        await h264_b.apply(await manager.join(session.id, SECOND, await h264_b.offer()))
        await vp8.apply(await manager.join(session.id, VP8_DESK, await vp8.offer()))
        await eventually(lambda: all(_counting(peer.from_size(size)) for peer, size in [
            (vp8, A), (vp8, B), (h264_a, C), (h264_b, C), (h264_a, B), (h264_b, A)]), timeout=20)
        ids = {p.label: p.id for p in session.participants.values()}
        pairs = {(t["from"], t["to"], t["codecs"]) for t in session.transcoded()}
        duty, desk, vp8_desk = ids["Duty commander"], ids["Water department desk"], ids["VP8 desk"]
        assert pairs == {(duty, vp8_desk, "H264>VP8"), (desk, vp8_desk, "H264>VP8"),
                         (vp8_desk, duty, "VP8>H264"), (vp8_desk, desk, "VP8>H264")}
    finally:
        for peer in (h264_a, h264_b, vp8):
            await peer.close()
