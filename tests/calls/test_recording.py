"""Recording: every participant's tracks remuxed to files PyAV plays back, with the duration that was sent."""

from __future__ import annotations

import av

from tests.calls.client import Peer
from tests.calls.conftest import COMMANDER, SECOND
from tests.gb28181.conftest import eventually
from video.calls.model import Kind


async def test_a_recorded_session_leaves_one_playable_file_per_track(manager, call_settings):
    first, second = Peer(size=(320, 240), slots=1), Peer(size=(256, 192), slots=1)
    try:
        session, joined = await manager.create(COMMANDER, Kind.SESSION, [], await first.offer(), record=True)
        await first.apply(joined)
        await second.apply(await manager.join(session.id, SECOND, await second.offer()))
        await eventually(lambda: len(second.from_size((320, 240)).counters) > 40
                         and len(first.from_size((256, 192)).counters) > 40)
        await manager.hangup(session.id, COMMANDER, everyone=True)
    finally:
        await first.close()
        await second.close()
    files = session.recorded
    assert sorted((f["kind"], f["codec"]) for f in files) == [("audio", "opus")] * 2 + [("video", "h264")] * 2
    for entry in files:
        path = call_settings.recordings.parent / entry["path"]
        with av.open(str(path)) as container:
            stream = container.streams.video[0] if entry["kind"] == "video" else container.streams.audio[0]
            decoded = sum(1 for _ in container.decode(stream))
            duration = container.duration / 1_000_000
        assert decoded >= entry["frames"] - 1
        step = 1 / 25 if entry["kind"] == "video" else 0.02  # the senders' frame and packet intervals
        assert abs(duration - entry["frames"] * step) <= 2 * step, (entry, duration)
        assert abs(entry["duration_s"] - (entry["frames"] - 1) * step) <= step
