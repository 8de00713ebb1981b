"""RTP packets (RFC 3550), an SSRC filter and a reorder buffer keyed by sequence number with wraparound."""

from __future__ import annotations

import struct
import time
from collections.abc import Callable
from dataclasses import dataclass

RTP_HEADER = struct.Struct("!BBHII")


class RtpError(ValueError):
    """Bytes that are not a valid RTP packet."""


@dataclass
class RtpPacket:
    """One RTP packet."""

    payload_type: int
    sequence: int
    timestamp: int
    ssrc: int
    payload: bytes = b""
    marker: bool = False
    csrc: tuple[int, ...] = ()
    extension: tuple[int, bytes] | None = None

    def to_bytes(self) -> bytes:
        """Serialise (no padding)."""
        first = 0x80 | (0x10 if self.extension else 0) | len(self.csrc)
        head = RTP_HEADER.pack(first, (0x80 if self.marker else 0) | self.payload_type, self.sequence & 0xFFFF,
                               self.timestamp & 0xFFFFFFFF, self.ssrc)
        head += b"".join(struct.pack("!I", c) for c in self.csrc)
        if self.extension:
            profile, data = self.extension
            data += b"\x00" * (-len(data) % 4)
            head += struct.pack("!HH", profile, len(data) // 4) + data
        return head + self.payload


def parse_rtp(data: bytes) -> RtpPacket:
    """Parse an RTP packet (version 2, with CSRCs, extension and padding); raises RtpError."""
    if len(data) < RTP_HEADER.size:
        raise RtpError("shorter than an RTP header")
    first, second, sequence, timestamp, ssrc = RTP_HEADER.unpack_from(data)
    if first >> 6 != 2:
        raise RtpError("not RTP version 2")
    offset = RTP_HEADER.size
    csrc_count = first & 0x0F
    if len(data) < offset + 4 * csrc_count:
        raise RtpError("truncated CSRC list")
    csrc = struct.unpack_from(f"!{csrc_count}I", data, offset)
    offset += 4 * csrc_count
    extension = None
    if first & 0x10:
        if len(data) < offset + 4:
            raise RtpError("truncated header extension")
        profile, words = struct.unpack_from("!HH", data, offset)
        end = offset + 4 + 4 * words
        if len(data) < end:
            raise RtpError("truncated header extension")
        extension = (profile, bytes(data[offset + 4 : end]))
        offset = end
    stop = len(data)
    if first & 0x20:
        padding = data[-1]
        if padding == 0 or padding > stop - offset:
            raise RtpError("bad padding")
        stop -= padding
    return RtpPacket(second & 0x7F, sequence, timestamp, ssrc, bytes(data[offset:stop]), bool(second & 0x80),
                     tuple(csrc), extension)


def seq_distance(a: int, b: int) -> int:
    """Signed distance from sequence number a to b, modulo 2**16 (positive when b is after a)."""
    return ((b - a + 0x8000) & 0xFFFF) - 0x8000


class SsrcFilter:
    """Accepts one SSRC: the expected one (from the SDP ``y=`` line) or else the first one seen.

    Some cameras ignore ``y=``: when the expected SSRC never showed up and `adopt_after` packets in a row
    came from one other SSRC, that one is adopted.
    """

    def __init__(self, expected: int | None = None, adopt_after: int = 16) -> None:
        self.ssrc = expected
        self.adopt_after = adopt_after
        self._confirmed = expected is None
        self._candidate: int | None = None
        self._candidate_count = 0

    def accept(self, packet: RtpPacket) -> bool:
        """Whether the packet belongs to our stream."""
        if self.ssrc is None:
            self.ssrc = packet.ssrc
        if packet.ssrc == self.ssrc:
            self._confirmed = True
            return True
        if self._confirmed:
            return False
        if packet.ssrc != self._candidate:
            self._candidate, self._candidate_count = packet.ssrc, 0
        self._candidate_count += 1
        if self._candidate_count >= self.adopt_after:
            self.ssrc, self._confirmed = packet.ssrc, True
            return True
        return False


class ReorderBuffer:
    """Releases packets in sequence order; waits a bounded number of packets/time for a gap, then declares loss.

    ``push`` returns the packets now releasable, each paired with whether a loss precedes it. The first
    `startup` packets are held so that a stream whose very first packets are swapped still starts in order.
    """

    def __init__(
        self, depth: int = 64, max_delay: float = 0.1, clock: Callable[[], float] | None = None, startup: int = 4
    ) -> None:
        self.depth = depth
        self.startup = startup
        self.max_delay = max_delay
        self.clock = clock or time.monotonic
        self.next_seq: int | None = None
        self.lost = 0
        self.duplicates = 0
        self.late = 0
        self._held: dict[int, tuple[RtpPacket, float]] = {}

    def push(self, packet: RtpPacket) -> list[tuple[RtpPacket, bool]]:
        """Add a packet; returns the packets released in order as (packet, loss_before)."""
        now = self.clock()
        distance = 0 if self.next_seq is None else seq_distance(self.next_seq, packet.sequence)
        if distance < 0:
            if distance < -self.depth * 4:  # a restarted stream: resynchronise on it
                self._held.clear()
                self.next_seq = packet.sequence
            else:
                self.late += 1
                return []
        if packet.sequence in self._held:
            self.duplicates += 1
            return []
        self._held[packet.sequence] = (packet, now)
        return self._release(now)

    def poll(self) -> list[tuple[RtpPacket, bool]]:
        """Release what waited long enough for a gap (call when no packet arrived for a while)."""
        return self._release(self.clock())

    def _release(self, now: float) -> list[tuple[RtpPacket, bool]]:
        released: list[tuple[RtpPacket, bool]] = []
        gap = False
        if self.next_seq is None:  # the first packets may be out of order too: start at the earliest of them
            if not self._held:
                return released
            oldest = min(arrival for _, arrival in self._held.values())
            if len(self._held) < self.startup and now - oldest < self.max_delay:
                return released
            first = next(iter(self._held))
            self.next_seq = min(self._held, key=lambda seq: seq_distance(first, seq))
        while self._held and self.next_seq is not None:
            entry = self._held.pop(self.next_seq, None)
            if entry is not None:
                released.append((entry[0], gap))
                gap = False
                self.next_seq = (self.next_seq + 1) & 0xFFFF
                continue
            oldest = min(arrival for _, arrival in self._held.values())
            if len(self._held) < self.depth and now - oldest < self.max_delay:
                break
            skip_to = min(self._held, key=lambda seq: seq_distance(self.next_seq or 0, seq))
            self.lost += seq_distance(self.next_seq, skip_to)
            self.next_seq = skip_to
            gap = True
        return released
