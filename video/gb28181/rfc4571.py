"""RFC 4571 framing of RTP over TCP: each packet is preceded by its 16-bit big-endian length."""

from __future__ import annotations

MAX_FRAME = 0xFFFF


class FramingError(ValueError):
    """A payload too large for a 16-bit length."""


def frame(packet: bytes) -> bytes:
    """Prefix one packet with its length."""
    if len(packet) > MAX_FRAME:
        raise FramingError("packet longer than 65535 bytes")
    return len(packet).to_bytes(2, "big") + packet


class FrameReader:
    """Cuts a TCP byte stream into packets (zero-length frames are skipped)."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[bytes]:
        """Add bytes; return every complete packet."""
        self._buffer += data
        packets: list[bytes] = []
        offset = 0
        while len(self._buffer) - offset >= 2:
            length = int.from_bytes(self._buffer[offset : offset + 2], "big")
            if len(self._buffer) - offset - 2 < length:
                break
            if length:
                packets.append(bytes(self._buffer[offset + 2 : offset + 2 + length]))
            offset += 2 + length
        del self._buffer[:offset]
        return packets
