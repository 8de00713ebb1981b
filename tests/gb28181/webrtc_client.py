"""A browser stand-in: an aiortc peer that offers to receive video and decodes what arrives."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription

from video.gb28181.simulator.clip import read_counter

Answerer = Callable[[str], Awaitable[dict]]


class WebRtcViewer:
    """Offers recvonly video, applies the answer, and records the frame counters it decodes."""

    def __init__(self) -> None:
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.pc.addTransceiver("video", direction="recvonly")
        self.counters: list[int] = []
        self.answer: dict = {}
        self._reader: asyncio.Task | None = None

        @self.pc.on("track")
        def _track(track) -> None:
            self._reader = asyncio.ensure_future(self._read(track))

    async def offer(self) -> str:
        """Create our offer (ICE gathered) and return its SDP."""
        await self.pc.setLocalDescription(await self.pc.createOffer())
        return self.pc.localDescription.sdp

    async def connect(self, answerer: Answerer) -> dict:
        """Send our offer to `answerer` and apply its answer; returns the answer body."""
        self.answer = await answerer(await self.offer())
        await self.pc.setRemoteDescription(RTCSessionDescription(self.answer["sdp"], self.answer["type"]))
        return self.answer

    async def _read(self, track) -> None:
        with contextlib.suppress(Exception):
            while True:
                frame = await track.recv()
                self.counters.append(read_counter(frame.to_ndarray(format="gray")))

    def negotiated_codecs(self) -> list[str]:
        """The codec names in the answer's video section."""
        return [line.split()[1].split("/")[0] for line in self.answer["sdp"].splitlines()
                if line.startswith("a=rtpmap:")]

    async def close(self) -> None:
        """Hang up."""
        await self.pc.close()
        if self._reader is not None:
            self._reader.cancel()
