"""WebRTC viewer sessions of camera streams: offer in, answer out, closed when the browser goes away.

Each session is one ``RTCPeerConnection`` with one send-only :class:`PassthroughTrack` from the
:class:`Relay`. A session ends on :meth:`ViewerSessions.stop`, when the connection fails or closes,
when it does not connect within ``connect_timeout``, or when the camera stream ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from dataclasses import dataclass, field

from aiortc import RTCConfiguration, RTCPeerConnection

from video.gb28181.relay import CameraStream, Relay
from video.gb28181.tasks import BackgroundTasks
from video.passthrough import PassthroughTrack
from video.webrtc import answer_offer


class TooManyViewers(Exception):
    """The relay already serves its maximum number of viewer sessions."""


@dataclass
class ViewerSession:
    """One browser watching one camera."""

    id: str
    stream: CameraStream
    track: PassthroughTrack
    pc: RTCPeerConnection
    closed: asyncio.Event = field(default_factory=asyncio.Event)

    def describe(self, answer: str | None = None) -> dict[str, object]:
        """What the play API returns."""
        body: dict[str, object] = {"session": self.id, "state": self.stream.state.value, "codec": self.stream.codec,
                                   "device_id": self.stream.device_id, "channel_id": self.stream.channel_id}
        if answer is not None:
            body.update(sdp=answer, type="answer")
        return body


class ViewerSessions:
    """Viewer sessions by id, on top of a relay."""

    def __init__(self, relay: Relay, *, max_sessions: int = 256, connect_timeout: float = 20.0) -> None:
        self.relay = relay
        self.max_sessions = max_sessions
        self.connect_timeout = connect_timeout
        self.sessions: dict[str, ViewerSession] = {}
        self._tasks = BackgroundTasks()

    async def play(self, device_id: str, channel_id: str, offer_sdp: str) -> dict[str, object]:
        """Answer a browser's offer with the channel's live video; raises NotPlayable, OfferError, TooManyViewers."""
        if len(self.sessions) >= self.max_sessions:
            raise TooManyViewers(f"at most {self.max_sessions} viewer sessions")
        stream, track = await self.relay.subscribe(device_id, channel_id)
        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        session = ViewerSession(secrets.token_urlsafe(12), stream, track, pc)
        self.sessions[session.id] = session
        try:
            answer = await answer_offer(pc, offer_sdp, track)
        except BaseException:
            await self.stop(session.id)
            raise

        @pc.on("connectionstatechange")
        def _changed() -> None:
            if pc.connectionState in ("failed", "closed"):
                self._tasks.spawn(self.stop(session.id))

        track.on("ended", lambda: self._tasks.spawn(self.stop(session.id)))
        self._tasks.spawn(self._expect_connection(session))
        return session.describe(answer)

    async def _expect_connection(self, session: ViewerSession) -> None:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(session.closed.wait(), self.connect_timeout)
        if not session.closed.is_set() and session.pc.connectionState != "connected":
            await self.stop(session.id)

    async def stop(self, session_id: str) -> bool:
        """End a session (the stream's BYE follows after the grace period if it was the last viewer)."""
        session = self.sessions.pop(session_id, None)
        if session is None:
            return False
        session.closed.set()
        self.relay.unsubscribe(session.stream, session.track)
        await asyncio.shield(session.pc.close())  # a cancelled waiter would cancel aiortc's own close future
        return True

    def get(self, session_id: str) -> ViewerSession | None:
        """A live session by id."""
        return self.sessions.get(session_id)

    async def close(self) -> None:
        """End every session."""
        for session_id in list(self.sessions):
            await self.stop(session_id)
        await self._tasks.cancel_all()
