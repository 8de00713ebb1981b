"""The receive chain for one camera stream: RTP → SSRC filter → reorder → PS demux → H.264 access units."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from video.gb28181.h264 import AccessUnit, AccessUnitAssembler
from video.gb28181.ps_demux import EsChunk, PsDemuxer
from video.gb28181.rtp import ReorderBuffer, RtpError, RtpPacket, SsrcFilter, parse_rtp

PLAYABLE_CODECS = {"h264"}


@dataclass
class PipelineStats:
    """Counters for one stream."""

    packets: int = 0
    malformed: int = 0
    foreign_ssrc: int = 0
    access_units: int = 0


class MediaPipeline:
    """Feed RTP datagrams; access units go to ``on_access_unit``, codec changes to ``on_codec``."""

    def __init__(
        self,
        on_access_unit: Callable[[AccessUnit], None],
        *,
        ssrc: int | None = None,
        on_codec: Callable[[str], None] | None = None,
        reorder: ReorderBuffer | None = None,
    ) -> None:
        self.on_access_unit = on_access_unit
        self.on_codec = on_codec
        self.ssrc_filter = SsrcFilter(ssrc)
        self.reorder = reorder or ReorderBuffer()
        self.demuxer = PsDemuxer()
        self.assembler = AccessUnitAssembler()
        self.codec: str | None = None
        self.stats = PipelineStats()
        self._timestamp: int | None = None
        self._stream_id: int | None = None

    @property
    def playable(self) -> bool | None:
        """Whether browsers can play the stream as is (None until the codec is known)."""
        if self.codec is None or self.codec == "unknown":
            return None
        return self.codec in PLAYABLE_CODECS

    def feed(self, data: bytes) -> None:
        """Take one RTP packet's bytes (anything malformed is counted and ignored)."""
        try:
            packet = parse_rtp(data)
        except RtpError:
            self.stats.malformed += 1
            return
        if not self.ssrc_filter.accept(packet):
            self.stats.foreign_ssrc += 1
            return
        self.stats.packets += 1
        for released, lost in self.reorder.push(packet):
            self._process(released, lost)

    def poll(self) -> None:
        """Give up on gaps that waited too long (call periodically on lossy transports)."""
        for released, lost in self.reorder.poll():
            self._process(released, lost)

    def _process(self, packet: RtpPacket, lost: bool) -> None:
        if lost:
            self.demuxer.reset()
            self.assembler.discontinuity()
        elif self._timestamp is not None and packet.timestamp != self._timestamp:
            self._end_of_frame()  # a new frame began: the previous one is complete even without a marker
        self._timestamp = packet.timestamp
        for chunk in self.demuxer.feed(packet.payload):
            self._chunk(chunk)
        if packet.marker:
            self._end_of_frame()

    def _end_of_frame(self) -> None:
        for chunk in self.demuxer.flush():
            self._chunk(chunk)
        if self.codec == "h264":
            self._deliver(self.assembler.flush())

    def _chunk(self, chunk: EsChunk) -> None:
        if self._stream_id is None:
            self._stream_id = chunk.stream_id
        elif chunk.stream_id != self._stream_id:
            return  # only the first video stream is relayed
        if chunk.codec != self.codec and chunk.codec != "unknown":
            self.codec = chunk.codec
            if self.on_codec is not None:
                self.on_codec(chunk.codec)
        if self.codec == "h264":
            self._deliver(self.assembler.push(chunk.data, chunk.pts))

    def _deliver(self, units: list[AccessUnit]) -> None:
        for unit in units:
            self.stats.access_units += 1
            self.on_access_unit(unit)
