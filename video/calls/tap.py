"""Encoded frames out of an aiortc ``RTCRtpReceiver``, before (and instead of) its decoder.

aiortc's receiver depacketises each RTP packet (``packet._data``: Annex B NAL units for H.264, the VP8
frame bytes, the Opus packet) and puts it into its ``JitterBuffer``; whatever frame that returns goes to
a decoder thread. :func:`tap_receiver` swaps the receiver's jitter buffer, on that instance only, for a
:class:`FrameTap`: it keeps the same ``add(packet) -> (pli, frame)`` contract, but hands each complete
frame to our sink and returns no frame, so the decoder thread stays idle and nothing is decoded.
Receiving (SRTP, RTX unwrapping, NACKs, RTCP reports) is aiortc's own, unchanged.

Differences from aiortc's buffer, for forwarding: a video frame is complete at its marker packet (aiortc
waits for the next frame's first packet, one frame interval later); audio packets pass at once (no
prefetch). After a loss that retransmission did not repair within ``max_wait`` the incomplete frame is
skipped, frames are held back until the next keyframe (so nothing undecodable is forwarded) and a PLI
is asked of the sender by returning ``pli=True``, which aiortc sends.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from aiortc import RTCRtpReceiver
from aiortc.rtcrtpparameters import RTCRtpCodecParameters
from aiortc.rtp import RtpPacket

from video.calls.media import H264, ParameterSets, is_keyframe, nal_types, starts_frame
from video.gb28181.h264 import NAL_IDR
from video.gb28181.rtp import seq_distance

MAX_PENDING = 512  # packets held while waiting for a retransmission
MAX_WAIT = 0.3  # seconds an incomplete frame may wait for its missing packets


@dataclass(frozen=True, slots=True)
class TappedFrame:
    """One complete encoded frame from the wire."""

    codec: str  # lower-case MIME type
    data: bytes
    keyframe: bool
    timestamp: int  # RTP timestamp, unwrapped (no 32-bit wrap)
    ssrc: int
    arrival: float = field(default_factory=time.monotonic)


FrameSink = Callable[[TappedFrame], None]


@dataclass
class TapStats:
    """What a tap saw."""

    packets: int = 0
    frames: int = 0
    late: int = 0
    skipped: int = 0  # incomplete frames given up
    held: int = 0  # frames not forwarded while waiting for a keyframe


class FrameTap:
    """Stands in for a receiver's JitterBuffer: complete encoded frames go to `sink`, none to the decoder."""

    def __init__(self, kind: str, codecs: Sequence[RTCRtpCodecParameters], sink: FrameSink,
                 *, max_wait: float = MAX_WAIT) -> None:
        self.kind = kind
        self.sink = sink
        self.max_wait = max_wait
        self.stats = TapStats()
        self._codecs = {c.payloadType: c.mimeType.lower() for c in codecs}
        self._next: int | None = None  # sequence number of the next frame's first packet
        self._pending: dict[int, RtpPacket] = {}
        self._gap_since: float | None = None
        self._highest: int | None = None
        self._need_keyframe = kind == "video"
        self._parameter_sets = ParameterSets()
        self._unwrap_origin: int | None = None
        self._last_ts = 0
        self._wraps = 0

    def add(self, packet: RtpPacket) -> tuple[bool, None]:
        """Take one depacketised RTP packet; returns (ask the sender for a keyframe, no frame for the decoder)."""
        self.stats.packets += 1
        codec = self._codecs.get(packet.payload_type)
        if codec is None:
            return False, None
        if self.kind == "audio":
            return self._audio(packet, codec), None
        return self._video(packet, codec), None

    def _audio(self, packet: RtpPacket, codec: str) -> bool:
        if self._next is not None and seq_distance(self._next, packet.sequence_number) < 0:
            self.stats.late += 1
            return False
        self._next = (packet.sequence_number + 1) & 0xFFFF
        self._emit(codec, [packet])
        return False

    def _video(self, packet: RtpPacket, codec: str) -> bool:
        seq = packet.sequence_number
        if self._next is None:
            if not starts_frame(codec, packet.payload):
                if packet.marker:
                    self._next = (seq + 1) & 0xFFFF
                return False
            self._next = seq
        ahead = seq_distance(self._next, seq)
        if ahead < 0 or seq in self._pending:
            self.stats.late += ahead < 0
            return False
        if ahead >= MAX_PENDING:
            return self._resync()
        self._pending[seq] = packet
        if self._highest is None or seq_distance(self._highest, seq) > 0:
            self._highest = seq
        pli = self._drain(codec)
        if self._pending and self._gap_since is not None and time.monotonic() - self._gap_since > self.max_wait:
            pli = self._skip(codec) or pli
        return pli

    def _drain(self, codec: str) -> bool:
        """Emit every complete frame at the head of the pending packets; True when a PLI is due."""
        pli = False
        while self._next is not None and self._next in self._pending:
            first = self._pending[self._next]
            parts, seq = [], self._next
            while (packet := self._pending.get(seq)) is not None and packet.timestamp == first.timestamp:
                parts.append(packet)
                if packet.marker:
                    break
                seq = (seq + 1) & 0xFFFF
            ends_at_marker = bool(parts[-1].marker)
            next_frame_follows = packet is not None and packet.timestamp != first.timestamp
            if not (ends_at_marker or next_frame_follows):
                break
            for part in parts:
                del self._pending[part.sequence_number]
            self._next = (parts[-1].sequence_number + 1) & 0xFFFF
            pli = self._emit(codec, parts) or pli
        self._gap_since = (self._gap_since or time.monotonic()) if self._has_hole() else None
        return pli

    def _has_hole(self) -> bool:
        """Whether a packet is missing before the newest pending one (not just a frame still arriving)."""
        if not self._pending or self._next is None or self._highest is None:
            return False
        return len(self._pending) <= seq_distance(self._next, self._highest)

    def _skip(self, codec: str) -> bool:
        """Give up the incomplete frame: restart after the first complete frame end that is pending."""
        self.stats.skipped += 1
        self._need_keyframe = True
        assert self._next is not None
        ends = sorted((seq_distance(self._next, s), s) for s, p in self._pending.items() if p.marker)
        if not ends:
            return self._resync()
        last_end = ends[0][1]
        for seq in [s for s in self._pending if seq_distance(last_end, s) <= 0]:
            del self._pending[seq]
        self._next = (last_end + 1) & 0xFFFF
        self._gap_since = None
        self._drain(codec)
        return True

    def _resync(self) -> bool:
        self._pending.clear()
        self._next = self._highest = None
        self._gap_since = None
        self._need_keyframe = True
        return True

    def _emit(self, codec: str, parts: list[RtpPacket]) -> bool:
        data = b"".join(p._data for p in parts)  # type: ignore[attr-defined] - set by the receiver
        if codec == H264:  # one scan of the NAL types serves the keyframe test and the parameter sets
            types = nal_types(data)
            keyframe = NAL_IDR in types
            data = self._parameter_sets.complete(data, types)
        else:
            keyframe = is_keyframe(codec, data) if self.kind == "video" else True
        if self._need_keyframe and not keyframe:
            self.stats.held += 1
            return self.stats.held % 25 == 1  # ask again now and then until the keyframe comes
        self._need_keyframe = False
        self.stats.frames += 1
        self.sink(TappedFrame(codec, data, keyframe, self._unwrap(parts[0].timestamp), parts[0].ssrc))
        return False

    def _unwrap(self, timestamp: int) -> int:
        if self._unwrap_origin is None:
            self._unwrap_origin = timestamp
        elif timestamp < self._last_ts and self._last_ts - timestamp > 0x80000000:
            self._wraps += 1
        self._last_ts = timestamp
        return timestamp + (self._wraps << 32) - self._unwrap_origin


def tap_receiver(receiver: RTCRtpReceiver, kind: str, codecs: Sequence[RTCRtpCodecParameters],
                 sink: FrameSink) -> FrameTap:
    """Divert `receiver`'s complete encoded frames to `sink` (its decoder gets nothing); call before media flows."""
    tap = FrameTap(kind, codecs, sink)
    receiver._RTCRtpReceiver__jitter_buffer = tap  # type: ignore[attr-defined] - the one swapped attribute
    return tap


async def send_pli(receiver: RTCRtpReceiver, ssrc: int) -> None:
    """Ask the remote sender of `ssrc` for a keyframe (RTCP PLI), as aiortc's receiver does itself."""
    await receiver._send_rtcp_pli(ssrc)  # type: ignore[attr-defined]
