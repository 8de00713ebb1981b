"""A relay camera as a session participant: its viewer track read as encoded access units, forwarded as is."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable

from aiortc.mediastreams import MediaStreamError

from video.calls.forwarding import Source
from video.calls.media import H264
from video.gb28181.relay import CameraStream, Relay
from video.passthrough import EncodedUnit, PassthroughTrack


class CameraFeed:
    """One relay subscription feeding a :class:`Source` (keyframe requests go to the relay's GOP cache/camera)."""

    def __init__(self, owner: str, relay: Relay, stream: CameraStream, track: PassthroughTrack) -> None:
        self.relay = relay
        self.stream = stream
        self.track = track
        self.source = Source(owner, "video", H264, track.request_keyframe)
        self._pump = asyncio.ensure_future(self._run())

    @classmethod
    async def open(cls, owner: str, relay: Relay, device_id: str, channel_id: str) -> CameraFeed:
        """Subscribe to a channel through the relay (raises the relay's NotPlayable)."""
        stream, track = await relay.subscribe(device_id, channel_id)
        return cls(owner, relay, stream, track)

    async def _run(self) -> None:
        with contextlib.suppress(MediaStreamError):
            while True:
                packet = await self.track.recv()
                self.source.push(H264, EncodedUnit(bytes(packet), packet.is_keyframe, packet.pts, time.monotonic()))

    def when_ended(self, callback: Callable[[], None]) -> None:
        """Call `callback` once the camera stream ends (or the feed is closed)."""
        self._pump.add_done_callback(lambda _: callback())

    async def close(self) -> None:
        """Leave the relay (BYE follows its grace period if this was the last viewer)."""
        self.source.close()
        self.relay.unsubscribe(self.stream, self.track)
        self._pump.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._pump
