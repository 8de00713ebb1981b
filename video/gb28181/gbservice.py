"""The platform, its relay and the WebRTC viewer sessions as one object, with API-ready errors (no Django)."""

from __future__ import annotations

from collections.abc import Callable

from video.gb28181.platform import GbPlatform
from video.gb28181.registry import PlatformEvents
from video.gb28181.relay import CameraStream, NotPlayable, Relay, RelaySettings, StreamState
from video.gb28181.settings import GbSettings
from video.gb28181.viewers import TooManyViewers, ViewerSessions
from video.webrtc import OfferError


class RelayRefused(Exception):
    """A play request the relay turned down, with the HTTP status and error code the API gives it."""

    def __init__(self, status: int, code: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail = status, code, detail


class GbService:
    """The platform, its relay and the viewer sessions, started and stopped together."""

    def __init__(
        self,
        gb: GbSettings,
        relay: RelaySettings | None = None,
        *,
        events: PlatformEvents | None = None,
        on_stream_state: Callable[[CameraStream], None] | None = None,
        max_viewers: int = 256,
    ) -> None:
        self.platform = GbPlatform(gb, events)
        self.relay = Relay(self.platform, relay, on_state=on_stream_state)
        self.viewers = ViewerSessions(self.relay, max_sessions=max_viewers)

    async def start(self) -> None:
        """Listen for devices."""
        await self.platform.start()

    async def close(self) -> None:
        """End viewers, BYE every stream, close the sockets."""
        await self.viewers.close()
        await self.relay.close()
        await self.platform.close()

    async def play(self, device_id: str, channel_id: str, offer_sdp: str) -> dict[str, object]:
        """Answer a browser offer for a channel; raises RelayRefused."""
        try:
            return await self.viewers.play(device_id, channel_id, offer_sdp)
        except NotPlayable as exc:
            code = "not_playable" if exc.state is StreamState.NOT_PLAYABLE else "camera_unavailable"
            raise RelayRefused(409, code, exc.reason) from exc
        except OfferError as exc:
            raise RelayRefused(400, "bad_offer", str(exc)) from exc
        except TooManyViewers as exc:
            raise RelayRefused(429, "too_many_viewers", str(exc)) from exc

    async def stop(self, session_id: str) -> bool:
        """End a viewer session; False if there is none."""
        return await self.viewers.stop(session_id)

    def streams(self) -> list[dict[str, object]]:
        """Every camera stream's state and figures."""
        return [stream.snapshot() for stream in self.relay.streams.values()]
