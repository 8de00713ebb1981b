"""A streaming MPEG-2 program stream (PS) demuxer, fed with RTP payloads as they come.

Handles what cameras really send: pack headers with stuffing (and MPEG-1 pack headers), system
headers, an optional program stream map (without one the video codec is sniffed from its start codes),
PES packets split across any number of RTP packets, ``PES_packet_length = 0`` (the PES runs to the next
system start code), marker bits that are not set, and garbage between packets (skipped to the next start code).
"""

from __future__ import annotations

from dataclasses import dataclass

PACK_START, SYSTEM_HEADER, PSM, END_CODE = 0xBA, 0xBB, 0xBC, 0xB9
PADDING, PRIVATE_2 = 0xBE, 0xBF
STREAM_TYPES = {0x1B: "h264", 0x24: "h265", 0x10: "mpeg4", 0x0F: "aac", 0x90: "g711a", 0x91: "g711u"}
H265_SNIFF_TYPES = {32, 33, 34, 35, 19, 20, 1}
H264_SNIFF_HEADERS = {0x67, 0x47, 0x27, 0x68, 0x48, 0x28, 0x65, 0x45, 0x25, 0x09, 0x06}
MAX_BUFFER = 2 * 1024 * 1024


@dataclass
class EsChunk:
    """A piece of one elementary stream (not necessarily whole NAL units) with the PES PTS if it began one."""

    stream_id: int
    codec: str
    data: bytes
    pts: int | None


def is_video(stream_id: int) -> bool:
    """Whether a PES stream id is an MPEG video stream (0xE0-0xEF)."""
    return 0xE0 <= stream_id <= 0xEF


def read_timestamp(data: bytes | bytearray, offset: int) -> int:
    """A 33-bit PTS/DTS from 5 bytes, ignoring marker bits (some cameras leave them 0)."""
    b = data[offset : offset + 5]
    return ((b[0] >> 1) & 0x07) << 30 | b[1] << 22 | (b[2] >> 1) << 15 | b[3] << 7 | b[4] >> 1


def sniff_codec(data: bytes | bytearray) -> str | None:
    """Guess H.264 or H.265 from the first recognisable NAL header after a start code."""
    index = data.find(b"\x00\x00\x01")
    while 0 <= index < len(data) - 4:
        header, second = data[index + 3], data[index + 4]
        if header & 0x81 == 0 and (header >> 1) & 0x3F in H265_SNIFF_TYPES and second == 0x01:
            return "h265"
        if header in H264_SNIFF_HEADERS or header & 0x1F == 1:
            return "h264"
        index = data.find(b"\x00\x00\x01", index + 3)
    return None


def _find_system_start(data: bytearray, start: int) -> int:
    """Index of the next 00 00 01 xx with xx >= 0xB9 (never inside H.264/H.265 NAL data), or -1."""
    index = data.find(b"\x00\x00\x01", start)
    while index >= 0:
        if index + 3 >= len(data):
            return -1
        if data[index + 3] >= END_CODE:
            return index
        index = data.find(b"\x00\x00\x01", index + 1)
    return -1


def _pes_header(data: bytearray, start: int, end: int) -> tuple[int, int | None] | None:
    """(payload offset, PTS) of the PES at `start`, whose bytes run to `end`; None when malformed or incomplete."""
    offset = start + 6
    if offset >= end:
        return None
    if data[offset] & 0xC0 == 0x80:  # MPEG-2 PES header
        if offset + 3 > end:
            return None
        flags, header_length = data[offset + 1], data[offset + 2]
        payload = offset + 3 + header_length
        if payload > end:
            return None
        pts = read_timestamp(data, offset + 3) if flags & 0x80 and header_length >= 5 else None
        return payload, pts
    while offset < end and data[offset] == 0xFF:  # MPEG-1: stuffing, STD buffer, timestamps
        offset += 1
    if offset < end and data[offset] & 0xC0 == 0x40:
        offset += 2
    if offset >= end:
        return None
    marker = data[offset] & 0xF0
    if marker == 0x20 and offset + 5 <= end:
        return offset + 5, read_timestamp(data, offset)
    if marker == 0x30 and offset + 10 <= end:
        return offset + 10, read_timestamp(data, offset)
    return offset + 1, None


class PsDemuxer:
    """Feed PS bytes; get video elementary-stream chunks out, as early as they are known complete."""

    def __init__(self) -> None:
        self.stream_types: dict[int, str] = {}
        self.skipped_bytes = 0
        self._buffer = bytearray()
        self._open: tuple[int, int | None] | None = None  # an unbounded PES: (stream id, pts not yet emitted)

    def codec(self, stream_id: int) -> str | None:
        """The codec of a stream as known so far (from the PSM or sniffed)."""
        return self.stream_types.get(stream_id)

    def reset(self) -> None:
        """Forget buffered bytes (after packet loss); the codec map is kept."""
        self._buffer.clear()
        self._open = None

    def feed(self, data: bytes) -> list[EsChunk]:
        """Add bytes; return the elementary-stream chunks now available."""
        self._buffer += data
        chunks: list[EsChunk] = []
        position = self._parse(chunks)
        del self._buffer[:position]
        if len(self._buffer) > MAX_BUFFER:
            self.skipped_bytes += len(self._buffer)
            self.reset()
        return chunks

    def flush(self) -> list[EsChunk]:
        """End of a frame (RTP marker): emit the rest of an unbounded PES."""
        chunks: list[EsChunk] = []
        if self._open is not None:
            self._emit(chunks, self._open[0], self._buffer, self._open[1])
            self._buffer.clear()
            self._open = (self._open[0], None)
        return chunks

    def _emit(self, chunks: list[EsChunk], stream_id: int, data: bytes | bytearray, pts: int | None) -> None:
        if not is_video(stream_id) or not data:
            return
        codec = self.stream_types.get(stream_id)
        if codec is None:
            codec = sniff_codec(data)
            if codec is None:
                codec = "unknown"
            else:
                self.stream_types[stream_id] = codec
        chunks.append(EsChunk(stream_id, codec, bytes(data), pts))

    def _parse(self, chunks: list[EsChunk]) -> int:
        data = self._buffer
        position = 0
        while True:
            if self._open is not None:
                stream_id, pts = self._open
                end = _find_system_start(data, position)
                if end < 0:
                    keep = max(position, len(data) - 3)
                    self._emit(chunks, stream_id, data[position:keep], pts)
                    if keep > position:
                        self._open = (stream_id, None)
                    return keep
                self._emit(chunks, stream_id, data[position:end], pts)
                self._open = None
                position = end
            start = _find_system_start(data, position)
            if start < 0:
                keep = max(position, len(data) - 3)
                self.skipped_bytes += keep - position
                return keep
            self.skipped_bytes += start - position
            position = start
            step = self._parse_unit(data, position, chunks)
            if step == 0:
                return position  # incomplete: wait for more bytes
            position += step

    def _parse_unit(self, data: bytearray, start: int, chunks: list[EsChunk]) -> int:
        """Consume one unit at `start`; returns its size, 0 when more bytes are needed."""
        available = len(data) - start
        stream_id = data[start + 3]
        if stream_id == END_CODE:
            return 4
        if stream_id == PACK_START:
            if available < 5:
                return 0
            if data[start + 4] & 0xC0 == 0x40:
                if available < 14:
                    return 0
                return 14 + (data[start + 13] & 0x07)
            if data[start + 4] & 0xF0 == 0x20:
                return 12 if available >= 12 else 0
            return 4  # not a pack header after all: skip the start code
        if available < 6:
            return 0
        length = int.from_bytes(data[start + 4 : start + 6], "big")
        media = is_video(stream_id) or 0xC0 <= stream_id <= 0xDF or stream_id == 0xBD
        if length == 0 and media:
            header = _pes_header(data, start, len(data))
            if header is None:
                return 0 if available < 6 + 3 + 255 else 6
            self._open = (stream_id, header[1])
            return header[0] - start
        end = start + 6 + length
        if not media and data.find(b"\x00\x00\x01\xba", start + 6, end) >= 0:
            return 4  # a pack header inside a system unit: its length is garbage
        if available < 6 + length + (0 if media else 3):
            return 0
        if not media and data[end : end + 3] != b"\x00\x00\x01":
            return 4  # a system unit must be followed by a start code: this one was garbage
        if stream_id == PSM:
            self._read_psm(data, start, end)
        elif stream_id not in (SYSTEM_HEADER, PADDING, PRIVATE_2) and stream_id < 0xF0:
            header = _pes_header(data, start, end)
            if header is not None:
                self._emit(chunks, stream_id, data[header[0] : end], header[1])
        return 6 + length

    def _read_psm(self, data: bytearray, start: int, end: int) -> None:
        if end - start < 16:
            return
        info_length = int.from_bytes(data[start + 8 : start + 10], "big")
        offset = start + 10 + info_length
        if offset + 2 > end:
            return
        map_end = min(offset + 2 + int.from_bytes(data[offset : offset + 2], "big"), end - 4)
        offset += 2
        while offset + 4 <= map_end:
            stream_type, stream_id = data[offset], data[offset + 1]
            es_info_length = int.from_bytes(data[offset + 2 : offset + 4], "big")
            if stream_type in STREAM_TYPES:
                self.stream_types[stream_id] = STREAM_TYPES[stream_type]
            offset += 4 + es_info_length
