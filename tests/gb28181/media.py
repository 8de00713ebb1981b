"""Helpers for media tests: run the clip through the muxer and packetiser, decode what comes out."""

from __future__ import annotations

import random

import av

from video.gb28181.h264 import AccessUnit
from video.gb28181.pipeline import MediaPipeline
from video.gb28181.ps_mux import MuxOptions, PsMuxer, RtpPacketizer
from video.gb28181.simulator.camera import shape
from video.gb28181.simulator.clip import encode_clip, read_counter


def rtp_stream(frames: int, options: MuxOptions | None = None, *, start: int = 0, codec: str = "h264",
               marker: bool = True, ssrc: int = 1234) -> list[bytes]:
    """The clip from frame `start` on, as RTP packets."""
    clip = encode_clip(codec=codec)
    muxer = PsMuxer(options or MuxOptions(codec=codec))
    packetizer = RtpPacketizer(ssrc, first_sequence=65_530)
    packets = []
    for number in range(frames):
        frame = clip[(start + number) % len(clip)]
        for rtp in packetizer.packetize(muxer.mux(frame.data, number * 3600, frame.keyframe), number * 3600):
            rtp.marker = rtp.marker and marker
            packets.append(rtp.to_bytes())
    return packets


def lossy(packets: list[bytes], loss: float, reorder: float, seed: int = 1) -> list[bytes]:
    """Packets through a bad network, frame by frame as the simulator does it (here: all at once)."""
    return shape(packets, loss, reorder, random.Random(seed))


class Decoder:
    """Decodes access units with PyAV, recording frame counters and decode errors."""

    def __init__(self) -> None:
        self.codec = av.CodecContext.create("h264", "r")
        self.counters: list[int] = []
        self.units: list[AccessUnit] = []
        self.errors = 0

    def __call__(self, unit: AccessUnit) -> None:
        self.units.append(unit)
        try:
            for picture in self.codec.decode(av.Packet(unit.data)):
                self.counters.append(read_counter(picture.to_ndarray(format="gray")))
        except av.error.FFmpegError:
            self.errors += 1


def run_pipeline(packets: list[bytes], ssrc: int | None = 1234) -> tuple[MediaPipeline, Decoder]:
    """Feed packets through a pipeline into a decoder."""
    decoder = Decoder()
    pipeline = MediaPipeline(decoder, ssrc=ssrc)
    for data in packets:
        pipeline.feed(data)
    pipeline.reorder.max_delay = 0
    pipeline.poll()
    return pipeline, decoder
