"""The inverse of the demuxer, for the simulator: access units → PS packs → RTP packets.

Options reproduce what real cameras do: no PSM, pack stuffing, a frame split over many small PES,
``PES_packet_length = 0`` and marker bits left at 0.
"""

from __future__ import annotations

from dataclasses import dataclass

from video.gb28181.rtp import RtpPacket

VIDEO_STREAM_ID = 0xE0
STREAM_TYPE = {"h264": 0x1B, "h265": 0x24}
MAX_PES_PAYLOAD = 65_000
MUX_RATE = 50_000  # in units of 50 bytes/s; informational only


@dataclass(frozen=True)
class MuxOptions:
    """How to write the program stream."""

    codec: str = "h264"
    psm: bool = True
    stuffing: int = 0
    pes_payload: int = MAX_PES_PAYLOAD
    zero_pes_length: bool = False
    marker_bits: bool = True


def mpeg_crc32(data: bytes) -> int:
    """CRC-32/MPEG-2 (polynomial 0x04C11DB7, no reflection, initial 0xFFFFFFFF) as the PSM carries it."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7) & 0xFFFFFFFF if crc & 0x80000000 else (crc << 1) & 0xFFFFFFFF
    return crc


class PsMuxer:
    """Writes one PS pack per access unit (with system header and PSM before keyframes)."""

    def __init__(self, options: MuxOptions | None = None) -> None:
        self.options = options or MuxOptions()
        if not 0 <= self.options.stuffing <= 7:
            raise ValueError("pack stuffing is 0-7 bytes")
        if not 1 <= self.options.pes_payload <= MAX_PES_PAYLOAD:
            raise ValueError(f"PES payload is 1-{MAX_PES_PAYLOAD} bytes")

    def _marker(self, value: int, mask: int) -> int:
        return value | mask if self.options.marker_bits else value & ~mask & 0xFF

    def pack_header(self, scr: int) -> bytes:
        """A 14-byte MPEG-2 pack header (plus stuffing) with the given 90 kHz SCR."""
        scr &= (1 << 33) - 1
        m = self._marker
        fields = bytes(
            [
                m(0x40 | ((scr >> 27) & 0x38) | ((scr >> 28) & 0x03), 0x04),
                (scr >> 20) & 0xFF,
                m(((scr >> 12) & 0xF8) | ((scr >> 13) & 0x03), 0x04),
                (scr >> 5) & 0xFF,
                m((scr << 3) & 0xF8, 0x04),
                m(0x00, 0x01),
                (MUX_RATE >> 14) & 0xFF,
                (MUX_RATE >> 6) & 0xFF,
                m((MUX_RATE << 2) & 0xFC, 0x03),
                0xF8 | self.options.stuffing,
            ]
        )
        return b"\x00\x00\x01\xba" + fields + b"\xff" * self.options.stuffing

    def system_header(self) -> bytes:
        """A system header announcing one video stream."""
        rate = bytes([0x80 | ((MUX_RATE >> 15) & 0x7F), (MUX_RATE >> 7) & 0xFF, ((MUX_RATE << 1) & 0xFE) | 0x01])
        # audio bound 0; both locks, marker, video bound 1; reserved; then stream 0xE0 with a P-STD bound.
        body = rate + bytes([0x00, 0xE1, 0x7F, VIDEO_STREAM_ID, 0xE0, 0x80])
        return b"\x00\x00\x01\xbb" + len(body).to_bytes(2, "big") + body

    def program_stream_map(self) -> bytes:
        """A PSM mapping stream 0xE0 to the configured codec, with its CRC."""
        entry = bytes([STREAM_TYPE[self.options.codec], VIDEO_STREAM_ID, 0x00, 0x00])
        body = bytes([0xE0, 0xFF, 0x00, 0x00]) + len(entry).to_bytes(2, "big") + entry
        length = len(body) + 4
        head = b"\x00\x00\x01\xbc" + length.to_bytes(2, "big") + body
        return head + mpeg_crc32(head).to_bytes(4, "big")

    def pes(self, payload: bytes, pts: int | None) -> bytes:
        """One video PES packet (PTS when given)."""
        if pts is None:
            header = bytes([0x80, 0x00, 0x00])
        else:
            pts &= (1 << 33) - 1
            m = self._marker
            stamp = bytes(
                [
                    m(0x20 | ((pts >> 29) & 0x0E), 0x01),
                    (pts >> 22) & 0xFF,
                    m((pts >> 14) & 0xFE, 0x01),
                    (pts >> 7) & 0xFF,
                    m((pts << 1) & 0xFE, 0x01),
                ]
            )
            header = bytes([0x80, 0x80, 0x05]) + stamp
        length = 0 if self.options.zero_pes_length else len(header) + len(payload)
        return b"\x00\x00\x01" + bytes([VIDEO_STREAM_ID]) + length.to_bytes(2, "big") + header + payload

    def mux(self, access_unit: bytes, pts: int, keyframe: bool) -> bytes:
        """One PS pack carrying a whole access unit."""
        parts = [self.pack_header(pts)]
        if keyframe and self.options.psm:
            parts += [self.system_header(), self.program_stream_map()]
        size = self.options.pes_payload
        for index, start in enumerate(range(0, len(access_unit), size)):
            parts.append(self.pes(access_unit[start : start + size], pts if index == 0 else None))
        return b"".join(parts)


class RtpPacketizer:
    """Cuts PS packs into RTP packets (payload type 96, 90 kHz), the marker on each frame's last packet."""

    def __init__(self, ssrc: int, payload_type: int = 96, max_payload: int = 1400, first_sequence: int = 0) -> None:
        self.ssrc = ssrc
        self.payload_type = payload_type
        self.max_payload = max_payload
        self.sequence = first_sequence & 0xFFFF

    def packetize(self, data: bytes, timestamp: int) -> list[RtpPacket]:
        """The RTP packets of one frame."""
        pieces = [data[start : start + self.max_payload] for start in range(0, len(data), self.max_payload)] or [b""]
        packets = []
        for index, piece in enumerate(pieces):
            packets.append(RtpPacket(self.payload_type, self.sequence, timestamp & 0xFFFFFFFF, self.ssrc, piece,
                                     marker=index == len(pieces) - 1))
            self.sequence = (self.sequence + 1) & 0xFFFF
        return packets
