"""Fan-out of encoded media: one :class:`Source` per sent track, one :class:`SlotTrack` per received one.

A participant's upstream track (from the tap, or a relay camera) is a :class:`Source`; every other
participant receives it through a :class:`SlotTrack`, a :class:`PassthroughTrack` on one of the transceivers
its offer reserved. Frames go from source to slots as they are. A slot whose negotiated codec differs from
its source's (a VP8-only peer and an H.264 sender) decodes the source with PyAV and hands aiortc raw
frames to encode: that pair only is transcoded, and :attr:`SlotTrack.transcoding` says so. A slot's
keyframe request (PLI/FIR from its peer, or a new source) goes back to the source, at most once per
``KEYFRAME_INTERVAL``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import av

from video.calls.media import H264, VP8, clock_rate
from video.calls.tap import TappedFrame
from video.passthrough import EncodedUnit, PassthroughTrack

KEYFRAME_INTERVAL = 0.5
SLOT_QUEUE = 150
DECODERS = {H264: "h264", VP8: "vp8"}


@dataclass
class SourceStats:
    """What a source received and forwarded."""

    frames: int = 0
    bytes: int = 0
    keyframes: int = 0
    keyframe_requests: int = 0
    paused_frames: int = 0
    started_at: float = field(default_factory=time.monotonic)


class Source:
    """One participant's sent track: its frames go to every attached slot and recorder, unchanged."""

    def __init__(self, owner: str, kind: str, codec: str | None,
                 request_keyframe: Callable[[], None] | None = None) -> None:
        self.owner = owner
        self.kind = kind
        self.codec = codec
        self.paused = False
        self.stats = SourceStats()
        self.slots: set[SlotTrack] = set()
        self.sinks: list[Callable[[Source, EncodedUnit], None]] = []
        self._request_keyframe = request_keyframe
        self._last_request = float("-inf")

    def on_frame(self, frame: TappedFrame) -> None:
        """A complete frame from the tap."""
        self.push(frame.codec, EncodedUnit(frame.data, frame.keyframe, frame.timestamp, frame.arrival))

    def push(self, codec: str, unit: EncodedUnit) -> None:
        """Forward one encoded frame to every slot and sink (held while paused)."""
        if self.paused:
            self.stats.paused_frames += 1
            return
        if codec != self.codec:  # the peer changed codec (or told it first now): slots re-decide transcoding
            self.codec = codec
            for slot in list(self.slots):
                slot.attach(self)
        stats = self.stats
        stats.frames += 1
        stats.bytes += len(unit.data)
        stats.keyframes += unit.keyframe
        for slot in self.slots:
            slot.push(unit)
        for sink in self.sinks:
            sink(self, unit)

    def request_keyframe(self) -> None:
        """Ask the sender for a keyframe (rate limited)."""
        now = time.monotonic()
        if self._request_keyframe is None or now - self._last_request < KEYFRAME_INTERVAL:
            return
        self._last_request = now
        self.stats.keyframe_requests += 1
        self._request_keyframe()

    def pause(self, paused: bool) -> None:
        """Stop or resume forwarding (mute); on resume every slot restarts at the next keyframe."""
        if paused == self.paused:
            return
        self.paused = paused
        if not paused:
            for slot in self.slots:
                slot.restart()
            self.request_keyframe()

    def close(self) -> None:
        """Detach every slot and sink."""
        for slot in list(self.slots):
            slot.attach(None)
        self.sinks.clear()


class Transcoder:
    """Decodes one source's frames (H.264 or VP8) into pictures for aiortc to encode in the slot's codec."""

    def __init__(self, source_codec: str) -> None:
        self.codec = av.CodecContext.create(DECODERS[source_codec], "r")
        self.frames = 0
        self.errors = 0

    def decode(self, packet: av.Packet) -> av.VideoFrame | None:
        """The picture of one encoded frame (None when the decoder gives none)."""
        try:
            pictures = self.codec.decode(packet)
        except av.FFmpegError:
            self.errors += 1
            return None
        if not pictures:
            return None
        picture = pictures[-1]
        picture.pts, picture.time_base = packet.pts, packet.time_base
        self.frames += 1
        return picture


class SlotTrack(PassthroughTrack):
    """What one receiver gets on one transceiver: the encoded frames of whichever source is attached."""

    def __init__(self, kind: str, codec: str) -> None:
        super().__init__(kind=kind, clock_rate=clock_rate(kind), max_queue=SLOT_QUEUE,
                         on_keyframe_request=self._keyframe_requested)
        self.codec = codec
        self.source: Source | None = None
        self.transcoder: Transcoder | None = None

    @property
    def transcoding(self) -> str | None:
        """"VP8>H264" when this slot transcodes, else None."""
        if self.transcoder is None or self.source is None or self.source.codec is None:
            return None
        return f"{self.source.codec.split('/')[1].upper()}>{self.codec.split('/')[1].upper()}"

    def attach(self, source: Source | None) -> None:
        """Receive `source` from its next keyframe on (None: nothing)."""
        same = source is self.source
        if self.source is not None and not same:
            self.source.slots.discard(self)
        self.source = source
        needs_transcoding = source is not None and source.codec not in (None, self.codec) and self.kind == "video"
        if same and needs_transcoding == (self.transcoder is not None):
            return
        self.restart()
        self.transcoder = Transcoder(source.codec) if needs_transcoding and source and source.codec else None
        if source is not None:
            source.slots.add(self)
            source.request_keyframe()

    def _keyframe_requested(self, track: PassthroughTrack) -> None:
        if self.source is not None:
            self.source.request_keyframe()

    async def recv(self) -> av.Packet | av.VideoFrame:  # type: ignore[override]
        """The next packet as it came, or (transcoding) the next decoded picture for aiortc to encode."""
        while True:
            packet = await super().recv()
            transcoder = self.transcoder
            if transcoder is None:
                return packet
            picture = await asyncio.get_running_loop().run_in_executor(None, transcoder.decode, packet)
            if picture is not None:
                return picture

    def stop(self) -> None:
        """End the track and leave its source."""
        self.attach(None)
        super().stop()
