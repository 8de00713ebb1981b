"""A participant stand-in: an aiortc peer that sends a pre-encoded clip and decodes what the server forwards.

Video is the simulator's looping clip (H.264, frame counter in the picture) sent as it is through a
:class:`PassthroughTrack`, or, for a VP8-only peer, the same pictures encoded by aiortc. Audio is a
pre-encoded Opus tone. Each peer may use its own picture size, so a receiver can tell senders apart.
"""

from __future__ import annotations

import asyncio
import contextlib
import fractions
from dataclasses import dataclass, field

import av
import numpy as np
from aiortc import RTCPeerConnection, RTCSessionDescription, VideoStreamTrack

from video.calls.media import ParameterSets, nal_types, only
from video.calls.peer import ice_configuration
from video.gb28181.simulator.clip import draw_frame, encode_clip, read_counter
from video.passthrough import EncodedUnit, PassthroughTrack

FPS = 25


def clip_units(width: int, height: int) -> list[tuple[bytes, bool]]:
    """The clip's access units, with SPS/PPS in front of every keyframe (as browsers send them)."""
    parameter_sets = ParameterSets()
    return [(parameter_sets.complete(frame.data, nal_types(frame.data)), frame.keyframe)
            for frame in encode_clip(width, height, FPS, frames=50, gop=25)]


def opus_packets(count: int = 50) -> list[bytes]:
    """`count` 20 ms Opus packets of a 440 Hz tone."""
    encoder = av.CodecContext.create("libopus", "w")
    encoder.sample_rate, encoder.format, encoder.layout = 48_000, "s16", "stereo"
    encoder.time_base = fractions.Fraction(1, 48_000)
    packets: list[bytes] = []
    for index in range(count + 5):
        t = (np.arange(960) + index * 960) / 48_000
        tone = (np.sin(2 * np.pi * 440 * t) * 8000).astype(np.int16)
        frame = av.AudioFrame.from_ndarray(np.repeat(tone, 2)[None, :], format="s16", layout="stereo")
        frame.sample_rate, frame.pts = 48_000, index * 960
        packets += [bytes(p) for p in encoder.encode(frame)]
    return packets[:count]


class PictureTrack(VideoStreamTrack):
    """Raw pictures with the frame counter, for aiortc to encode (the VP8 peer)."""

    def __init__(self, width: int, height: int) -> None:
        super().__init__()
        self.size = (width, height)
        self.index = 0

    async def recv(self) -> av.VideoFrame:
        pts, time_base = await self.next_timestamp()
        frame = av.VideoFrame.from_ndarray(draw_frame(self.index % 50, *self.size), format="yuv420p")
        frame.pts, frame.time_base = pts, time_base
        self.index += 1
        return frame


@dataclass
class Received:
    """What one receiving transceiver decoded."""

    counters: list[int] = field(default_factory=list)
    sizes: set[tuple[int, int]] = field(default_factory=set)
    audio_frames: int = 0


class Peer:
    """Offers its own audio+video (sendonly) and `slots` receive-only video+audio pairs."""

    def __init__(self, *, size: tuple[int, int] = (320, 240), slots: int = 2, video: bool = True,
                 audio: bool = True, codec: str | None = None) -> None:
        self.size = size
        self.codec = codec
        self.pc = RTCPeerConnection(ice_configuration([]))  # max-bundle, as browsers
        self.received: dict[str, Received] = {}
        self.keyframe_requests = 0
        self.answer: dict = {}
        self._tasks: list[asyncio.Task] = []
        self.video_track: PassthroughTrack | PictureTrack | None = None
        if video:
            if codec == "video/vp8":
                self.video_track = PictureTrack(*size)
                sender = self.pc.addTransceiver(self.video_track, direction="sendonly")
            else:
                self.video_track = PassthroughTrack()
                sender = self.pc.addTransceiver(self.video_track, direction="sendonly")
                self._count_keyframe_requests(sender.sender)
                self._tasks.append(asyncio.ensure_future(self._feed_video(self.video_track)))
            if codec:
                sender.setCodecPreferences(only(codec))
        if audio:
            track = PassthroughTrack(kind="audio", clock_rate=48_000)
            self.pc.addTransceiver(track, direction="sendonly")
            self._tasks.append(asyncio.ensure_future(self._feed_audio(track)))
        for _ in range(slots):
            transceiver = self.pc.addTransceiver("video", direction="recvonly")
            if codec:
                transceiver.setCodecPreferences(only(codec))
            self.pc.addTransceiver("audio", direction="recvonly")

        @self.pc.on("track")
        def _track(track) -> None:
            transceiver = next(t for t in self.pc.getTransceivers() if t.receiver.track is track)
            self._tasks.append(asyncio.ensure_future(self._read(transceiver.mid, track)))

    def _count_keyframe_requests(self, sender) -> None:
        """Count every PLI/FIR our video sender gets (aiortc would only flag its encoder)."""
        original = sender._send_keyframe

        def send_keyframe() -> None:
            original()
            self.keyframe_requests += 1

        sender._send_keyframe = send_keyframe

    async def _feed_video(self, track: PassthroughTrack) -> None:
        units = clip_units(*self.size)
        index = 0
        while track.readyState == "live":
            data, keyframe = units[index % len(units)]
            track.push(EncodedUnit(data, keyframe, index * 3600))
            index += 1
            await asyncio.sleep(1 / FPS)

    async def _feed_audio(self, track: PassthroughTrack) -> None:
        packets = opus_packets()
        index = 0
        while track.readyState == "live":
            track.push(EncodedUnit(packets[index % len(packets)], True, index * 960))
            index += 1
            await asyncio.sleep(0.02)

    async def _read(self, mid: str, track) -> None:
        received = self.received.setdefault(mid, Received())
        with contextlib.suppress(Exception):
            while True:
                frame = await track.recv()
                if isinstance(frame, av.AudioFrame):
                    received.audio_frames += 1
                else:
                    received.sizes.add((frame.width, frame.height))
                    received.counters.append(read_counter(frame.to_ndarray(format="gray")))

    async def offer(self) -> str:
        """Our offer (ICE gathered)."""
        await self.pc.setLocalDescription(await self.pc.createOffer())
        return self.pc.localDescription.sdp

    async def apply(self, answer: dict) -> dict:
        """Apply the server's answer body."""
        self.answer = answer
        await self.pc.setRemoteDescription(RTCSessionDescription(answer["sdp"], answer["type"]))
        return answer

    def slot_mids(self) -> list[str | None]:
        """The video mid of each slot, in order."""
        return [slot["video_mid"] for slot in self.answer.get("slots", [])]

    def from_size(self, size: tuple[int, int]) -> Received:
        """What was received from the peer whose pictures have this size."""
        matches = [r for r in self.received.values() if size in r.sizes]
        return matches[0] if matches else Received()

    def audio_frames(self) -> int:
        """Audio frames decoded over all slots."""
        return sum(r.audio_frames for r in self.received.values())

    async def close(self) -> None:
        """Hang up locally."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.pc.close()
