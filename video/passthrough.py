"""A WebRTC video track that sends already-encoded H.264 access units: no decoding, no re-encoding.

:meth:`PassthroughTrack.recv` returns an ``av.Packet`` (Annex B bytes, 90 kHz ``pts``); aiortc's
``RTCRtpSender`` then calls ``H264Encoder.pack`` on it, which only splits it into RTP payloads
(STAP-A/FU-A). Producers :meth:`~PassthroughTrack.push` :class:`EncodedUnit` s; the queue is bounded:
a viewer that falls behind loses what is queued and restarts at the next keyframe, so memory never
grows. :meth:`~PassthroughTrack.replay` starts a viewer at once from a cached GOP (sent as a burst of
nearly equal timestamps so that the browser shows the newest picture without delay). Shared with the
video-calls module, which forwards its own encoded frames the same way.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction

import av
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from video.stats import LatencyHistogram

VIDEO_CLOCK = 90_000
MAX_SOURCE_STEP_S = 5  # a bigger jump in source timestamps is a reset, not real time
DEFAULT_QUEUE = 150  # six seconds at 25 fps: a whole GOP of most cameras
DEFAULT_MAX_DELAY = 1.0  # seconds a live unit may wait before the viewer counts as lagging
KEYFRAME_REQUEST_INTERVAL = 1.0


@dataclass(frozen=True, slots=True)
class EncodedUnit:
    """One encoded picture (Annex B for H.264), whether it is a keyframe, source pts (its clock) and arrival time."""

    data: bytes
    keyframe: bool
    pts: int | None = None
    arrival: float = field(default_factory=time.monotonic)


class TimestampRewriter:
    """One smooth, increasing timeline per viewer (90 kHz unless told), whatever the source's timestamps do."""

    def __init__(self, clock_rate: int = VIDEO_CLOCK) -> None:
        self.clock_rate = clock_rate
        self._out: int | None = None
        self._pts: int | None = None
        self._arrival = 0.0

    def next(self, unit: EncodedUnit, burst: bool = False) -> int:
        """The output timestamp of `unit`; burst units (catch-up) advance by one tick only."""
        if self._out is None:
            out = 0
        elif burst:
            out = self._out + 1
        else:
            out = self._out + self._step(unit)
        self._out, self._pts, self._arrival = out, unit.pts, unit.arrival
        return out

    def rebase(self) -> None:
        """A new source follows: step by arrival time once, as its timestamps are unrelated to the last ones."""
        self._pts = None

    def _step(self, unit: EncodedUnit) -> int:
        step = unit.pts - self._pts if unit.pts is not None and self._pts is not None else 0
        if 0 < step <= MAX_SOURCE_STEP_S * self.clock_rate:
            return step
        return max(1, round((unit.arrival - self._arrival) * self.clock_rate))


@dataclass
class TrackStats:
    """What one viewer track did."""

    frames_in: int = 0
    frames_out: int = 0
    dropped: int = 0
    keyframe_requests: int = 0
    created_at: float = field(default_factory=time.monotonic)
    first_frame_at: float | None = None
    latency: LatencyHistogram = field(default_factory=LatencyHistogram)


class PassthroughTrack(MediaStreamTrack):
    """A track fed with encoded units (H.264 access units by default); aiortc packetizes them as they are.

    ``kind``/``clock_rate`` make it carry other encoded media too (VP8 frames; Opus packets at 48 kHz):
    aiortc's VP8 and Opus encoders ``pack`` packets just as the H.264 one does.
    """

    kind = "video"

    def __init__(
        self,
        *,
        max_queue: int = DEFAULT_QUEUE,
        max_delay: float = DEFAULT_MAX_DELAY,
        on_keyframe_request: Callable[[PassthroughTrack], None] | None = None,
        kind: str = "video",
        clock_rate: int = VIDEO_CLOCK,
    ) -> None:
        super().__init__()
        self.kind = kind
        self.time_base = Fraction(1, clock_rate)
        self.max_queue = max(1, max_queue)
        self.max_delay = max_delay
        self.on_keyframe_request = on_keyframe_request
        self.stats = TrackStats()
        self._queue: deque[tuple[EncodedUnit, bool]] = deque()
        self._wakeup = asyncio.Event()
        self._need_keyframe = True
        self._clock = TimestampRewriter(clock_rate)
        self._in_flight: float | None = None
        self._last_request = float("-inf")

    @property
    def queued(self) -> int:
        """Units waiting to be sent."""
        return len(self._queue)

    def push(self, unit: EncodedUnit) -> None:
        """Queue one live unit; when the viewer lags behind, drop the queue and wait for a keyframe."""
        if self.readyState != "live":
            return
        self.stats.frames_in += 1
        if self._lagging(unit):
            self.stats.dropped += len(self._queue)
            self._queue.clear()
            self._need_keyframe = True
        if self._need_keyframe and not unit.keyframe:
            self.stats.dropped += 1
            return
        self._need_keyframe = False
        self._queue.append((unit, False))
        self._wakeup.set()

    def _lagging(self, unit: EncodedUnit) -> bool:
        if len(self._queue) >= self.max_queue:
            return True
        head, burst = self._queue[0] if self._queue else (unit, True)
        return not burst and unit.arrival - head.arrival > self.max_delay

    def replay(self, units: Sequence[EncodedUnit]) -> bool:
        """Restart from a cached GOP (keyframe first), sent at once; False if it is empty or longer than the queue."""
        if self.readyState != "live" or not units or not units[0].keyframe or len(units) > self.max_queue:
            return False
        self.stats.dropped += len(self._queue)
        self._queue.clear()
        self._queue.extend((unit, True) for unit in units)
        self._need_keyframe = False
        self._wakeup.set()
        return True

    def restart(self) -> None:
        """Another source follows (or the same one after a pause): drop the queue, wait for its next keyframe."""
        self.stats.dropped += len(self._queue)
        self._queue.clear()
        self._need_keyframe = True
        self._clock.rebase()

    def request_keyframe(self) -> None:
        """The viewer lost the picture (PLI/FIR): ask the owner for a keyframe, at most once a second."""
        now = time.monotonic()
        if self.on_keyframe_request is None or now - self._last_request < KEYFRAME_REQUEST_INTERVAL:
            return
        self._last_request = now
        self.stats.keyframe_requests += 1
        self.on_keyframe_request(self)

    async def recv(self) -> av.Packet:  # type: ignore[override]
        """The next access unit as an ``av.Packet`` (raises MediaStreamError once stopped)."""
        if self._in_flight is not None:  # the sender calls recv() again once the previous unit is sent
            self.stats.latency.add(time.monotonic() - self._in_flight)
            self._in_flight = None
        while not self._queue:
            if self.readyState != "live":
                raise MediaStreamError
            self._wakeup.clear()
            await self._wakeup.wait()
        unit, burst = self._queue.popleft()
        packet = av.Packet(unit.data)
        packet.is_keyframe = unit.keyframe  # for readers of the track that forward it on (a camera in a call)
        packet.pts = self._clock.next(unit, burst)
        packet.time_base = self.time_base
        self.stats.frames_out += 1
        if self.stats.first_frame_at is None:
            self.stats.first_frame_at = time.monotonic()
        if not burst:
            self._in_flight = unit.arrival
        return packet

    def stop(self) -> None:
        """End the track: the sender's recv() raises MediaStreamError and it stops sending."""
        super().stop()
        self._queue.clear()
        self._wakeup.set()
