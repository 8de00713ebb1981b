"""The camera relay: one pull (INVITE) per channel, fanned out to every viewer track, as is.

A :class:`CameraStream` starts on its first viewer, caches the GOP since the last keyframe so that a new
viewer (or one that sends PLI) gets a decodable picture at once, and sends BYE ``grace`` seconds after
its last viewer left. H.264 is forwarded without re-encoding; any other codec (H.265) puts the stream in
the ``not_playable`` state and stops the pull. Per-stream figures are in :meth:`CameraStream.snapshot`.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from video.gb28181.h264 import AccessUnit
from video.gb28181.pipeline import PLAYABLE_CODECS
from video.gb28181.platform import GbPlatform, PlayError, PlaySession
from video.gb28181.tasks import BackgroundTasks
from video.passthrough import EncodedUnit, PassthroughTrack
from video.stats import LatencyHistogram

log = logging.getLogger(__name__)


class StreamState(enum.StrEnum):
    """Where a camera stream is: starting → live, or not_playable / failed; stopped at the end."""

    STARTING = "starting"
    LIVE = "live"
    NOT_PLAYABLE = "not_playable"
    FAILED = "failed"
    STOPPED = "stopped"


class NotPlayable(Exception):
    """A camera that cannot be watched now: H.265, offline, refusing, or sending nothing."""

    def __init__(self, state: StreamState, reason: str) -> None:
        super().__init__(reason)
        self.state = state
        self.reason = reason


@dataclass(frozen=True)
class RelaySettings:
    """Timers and bounds of the relay."""

    grace: float = 10.0  # seconds between the last viewer leaving and BYE
    transport: str = "UDP"  # media transport asked of cameras: UDP, TCP-passive, TCP-active
    codec_timeout: float = 5.0  # seconds to wait for the first media after INVITE
    stall_timeout: float = 10.0  # a live stream without media this long is ended (BYE)
    max_gop_frames: int = 150
    max_gop_bytes: int = 8 * 1024 * 1024
    iframe_interval: float = 2.0  # at most one I-frame request to a camera this often
    viewer_queue: int = 150


class GopCache:
    """The access units since the last keyframe, within bounds (beyond them nothing is cached)."""

    def __init__(self, max_frames: int, max_bytes: int) -> None:
        self.max_frames = max_frames
        self.max_bytes = max_bytes
        self.units: list[EncodedUnit] = []
        self.size = 0

    def add(self, unit: EncodedUnit) -> bool:
        """Cache one unit; False when the GOP outgrew the bounds and the cache was emptied."""
        if unit.keyframe:
            self.units, self.size = [], 0
        elif not self.units:
            return True  # no keyframe yet: nothing decodable to cache
        if len(self.units) >= self.max_frames or self.size + len(unit.data) > self.max_bytes:
            self.units, self.size = [], 0
            return False
        self.units.append(unit)
        self.size += len(unit.data)
        return True


@dataclass
class StreamStats:
    """Counters of one camera stream (viewer figures include viewers already gone)."""

    started_at: float = field(default_factory=time.monotonic)
    first_unit_at: float | None = None
    last_unit_at: float | None = None
    frames_in: int = 0
    keyframes_in: int = 0
    bytes_in: int = 0
    frames_out: int = 0
    dropped: int = 0
    iframe_requests: int = 0
    latency: LatencyHistogram = field(default_factory=LatencyHistogram)


class CameraStream:
    """One channel's live stream and its viewers."""

    def __init__(self, relay: Relay, device_id: str, channel_id: str) -> None:
        self.relay = relay
        self.device_id = device_id
        self.channel_id = channel_id
        self.state = StreamState.STARTING
        self.reason = ""
        self.codec: str | None = None
        self.session: PlaySession | None = None
        self.viewers: set[PassthroughTrack] = set()
        self.gop = GopCache(relay.settings.max_gop_frames, relay.settings.max_gop_bytes)
        self.stats = StreamStats()
        self.decided = asyncio.Event()  # set once the state left STARTING
        self._grace: asyncio.TimerHandle | None = None
        self._last_iframe_request = float("-inf")

    @property
    def key(self) -> tuple[str, str]:
        """(device id, channel id)."""
        return self.device_id, self.channel_id

    async def start(self) -> None:
        """INVITE the channel; the stream goes live when H.264 arrives."""
        settings = self.relay.settings
        try:
            session = await self.relay.platform.play(
                self.device_id, self.channel_id, settings.transport, self._on_access_unit, self._on_codec
            )
        except (PlayError, LookupError, OSError) as exc:
            self._set_state(StreamState.FAILED, str(exc))
            self.relay._forget(self)
            return
        if self.state not in (StreamState.STARTING, StreamState.LIVE):  # ended while we were inviting
            await session.stop()
            return
        self.session = session
        await self._watch(session)

    async def _watch(self, session: PlaySession) -> None:
        settings = self.relay.settings
        while self.state in (StreamState.STARTING, StreamState.LIVE):
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(session.closed.wait(), min(1.0, settings.stall_timeout))
            now = time.monotonic()
            if session.closed.is_set():
                await self._end(StreamState.FAILED, "the camera ended the stream")
            elif self.stats.last_unit_at is None and now - self.stats.started_at > settings.codec_timeout:
                await self._end(StreamState.FAILED, "the camera sent no video")
            elif self.stats.last_unit_at is not None and now - self.stats.last_unit_at > settings.stall_timeout:
                await self._end(StreamState.FAILED, "the camera stopped sending video")

    def _on_codec(self, codec: str) -> None:
        self.codec = codec
        if codec in PLAYABLE_CODECS:
            if self.state is StreamState.STARTING:
                self._set_state(StreamState.LIVE)
        else:
            reason = f"the camera sends {codec.upper()}, which browsers cannot play without re-encoding"
            self.relay._tasks.spawn(self._end(StreamState.NOT_PLAYABLE, reason))

    def _on_access_unit(self, unit: AccessUnit) -> None:
        now = time.monotonic()
        encoded = EncodedUnit(unit.data, unit.keyframe, unit.pts, now)
        stats = self.stats
        if stats.first_unit_at is None:
            stats.first_unit_at = now
        stats.last_unit_at = now
        stats.frames_in += 1
        stats.keyframes_in += unit.keyframe
        stats.bytes_in += len(unit.data)
        if not self.gop.add(encoded):
            self.request_iframe()
        for viewer in self.viewers:
            viewer.push(encoded)

    def add_viewer(self, track: PassthroughTrack) -> None:
        """Start a viewer from the cached GOP (or at the next keyframe)."""
        if self._grace is not None:
            self._grace.cancel()
            self._grace = None
        self.viewers.add(track)
        if not track.replay(self.gop.units):
            self.request_iframe()

    def remove_viewer(self, track: PassthroughTrack) -> None:
        """Forget a viewer (its figures stay in the stream's); the last one starts the grace period."""
        if track not in self.viewers:
            return
        self.viewers.discard(track)
        self._account(track)
        if not self.viewers and self.state in (StreamState.STARTING, StreamState.LIVE):
            loop = asyncio.get_running_loop()
            self._grace = loop.call_later(self.relay.settings.grace, self._grace_over)

    def _grace_over(self) -> None:
        self._grace = None
        if not self.viewers:
            self.relay._tasks.spawn(self._end(StreamState.STOPPED, "no viewers"))

    def keyframe_requested(self, track: PassthroughTrack) -> None:
        """A viewer lost the picture: replay the cached GOP to it, or ask the camera for an I-frame."""
        if not track.replay(self.gop.units):
            self.request_iframe()

    def request_iframe(self) -> None:
        """Ask the camera for an I-frame (at most once per ``iframe_interval``)."""
        now = time.monotonic()
        if self.session is None or now - self._last_iframe_request < self.relay.settings.iframe_interval:
            return
        self._last_iframe_request = now
        self.stats.iframe_requests += 1
        self.relay._tasks.spawn(self._send_iframe_request())

    async def _send_iframe_request(self) -> None:
        with contextlib.suppress(LookupError):  # the device went offline meanwhile
            await self.relay.platform.request_iframe(self.device_id, self.channel_id)

    def _account(self, track: PassthroughTrack) -> None:
        self.stats.frames_out += track.stats.frames_out
        self.stats.dropped += track.stats.dropped
        self.stats.latency.merge(track.stats.latency)

    def _set_state(self, state: StreamState, reason: str = "") -> None:
        if self.state is state:
            return
        self.state, self.reason = state, reason
        if state is not StreamState.STARTING:
            self.decided.set()
        self.relay._notify(self)

    async def _end(self, state: StreamState, reason: str) -> None:
        """Leave for good: end every viewer, forget the stream, BYE the camera."""
        if self.state in (StreamState.NOT_PLAYABLE, StreamState.FAILED, StreamState.STOPPED):
            return
        if self._grace is not None:
            self._grace.cancel()
            self._grace = None
        self._set_state(state, reason)
        self.relay._forget(self)
        for track in list(self.viewers):
            self._account(track)
            track.stop()
        self.viewers.clear()
        self.gop = GopCache(0, 0)
        if self.session is not None:
            await self.session.stop()

    def snapshot(self) -> dict[str, object]:
        """State and figures, for the API, logs and the bench."""
        stats = self.stats
        latency = LatencyHistogram()
        latency.merge(stats.latency)
        frames_out, dropped = stats.frames_out, stats.dropped
        for track in self.viewers:
            latency.merge(track.stats.latency)
            frames_out += track.stats.frames_out
            dropped += track.stats.dropped
        first = stats.first_unit_at - stats.started_at if stats.first_unit_at is not None else None
        return {
            "device_id": self.device_id, "channel_id": self.channel_id, "state": self.state.value,
            "reason": self.reason, "codec": self.codec, "viewers": len(self.viewers),
            "frames_in": stats.frames_in, "keyframes_in": stats.keyframes_in, "bytes_in": stats.bytes_in,
            "frames_out": frames_out, "dropped": dropped, "iframe_requests": stats.iframe_requests,
            "first_frame_s": round(first, 4) if first is not None else None,
            "send_latency": latency.summary(),
        }


class Relay:
    """Camera streams by (device id, channel id), pulled from a :class:`GbPlatform`."""

    def __init__(
        self,
        platform: GbPlatform,
        settings: RelaySettings | None = None,
        on_state: Callable[[CameraStream], None] | None = None,
    ) -> None:
        self.platform = platform
        self.settings = settings or RelaySettings()
        self.on_state = on_state
        self.streams: dict[tuple[str, str], CameraStream] = {}
        self._tasks = BackgroundTasks()

    async def subscribe(self, device_id: str, channel_id: str) -> tuple[CameraStream, PassthroughTrack]:
        """A new viewer track of a channel (starting the pull if needed); raises NotPlayable."""
        stream = self.streams.get((device_id, channel_id))
        if stream is None:
            stream = self.streams[(device_id, channel_id)] = CameraStream(self, device_id, channel_id)
            self._tasks.spawn(stream.start())
        track = PassthroughTrack(max_queue=self.settings.viewer_queue, on_keyframe_request=stream.keyframe_requested)
        stream.add_viewer(track)
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stream.decided.wait(), self.settings.codec_timeout + 1.0)
        if stream.state is not StreamState.LIVE:
            stream.remove_viewer(track)
            track.stop()
            raise NotPlayable(stream.state, stream.reason or "the camera sent no video in time")
        return stream, track

    def unsubscribe(self, stream: CameraStream, track: PassthroughTrack) -> None:
        """A viewer left; BYE follows after the grace period if it was the last."""
        stream.remove_viewer(track)
        track.stop()

    def _forget(self, stream: CameraStream) -> None:
        if self.streams.get(stream.key) is stream:
            del self.streams[stream.key]

    def _notify(self, stream: CameraStream) -> None:
        if self.on_state is not None:
            try:
                self.on_state(stream)
            except Exception:
                log.exception("relay state callback failed")

    async def close(self) -> None:
        """Stop every stream (BYE) and background task."""
        for stream in list(self.streams.values()):
            with contextlib.suppress(Exception):
                await asyncio.wait_for(stream._end(StreamState.STOPPED, "relay closing"), 2.0)
        await self._tasks.cancel_all()
