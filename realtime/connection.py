"""The `/ws/hub` endpoint: one Connection per WebSocket, a plain ASGI application.

Outgoing frames wait in a bounded queue drained by one writer task. The writer keeps at most
`send_window_bytes` unacknowledged: it interleaves `{"op":"ping","n":k}` frames and counts
what precedes ping k as consumed once the client answers `{"op":"pong","n":k}`. So a stalled
client holds at most the window in the server's socket buffers plus its queue, then is closed.

Events and control frames go first. Position batches (one or more part frames each) are sent only
when nothing else waits and while at most `position_window_bytes` are unacknowledged, so an event
never queues behind more than that much position data anywhere between the hub and the client.
A batch's parts are spaced evenly over `position_spread_s`, so the batches of many connections do not
leave at the tick as one burst that events would wait behind.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from redis.exceptions import RedisError

from realtime import protocol as p
from realtime.backend import config as hub_config
from realtime.config import HubConfig
from realtime.envelope import dumps, parse_since
from realtime.hub import Hub, get_hub
from realtime.identity import authenticate, query_token, recheck, session_key
from realtime.ingest import Refused, fixes_of
from realtime.positions import PositionFilter
from realtime.protocol import Close
from realtime.ratelimit import TokenBucket
from realtime.subscription import Subscription
from realtime.topics import POSITIONS, may_subscribe, valid_topic

log = logging.getLogger("realtime.connection")


class Connection:
    """One client: its identity, subscriptions, outgoing queue and flow-control window."""

    def __init__(self, scope: dict, send: Any, hub: Hub, config: HubConfig) -> None:
        self.scope = scope
        self._send = send
        self.hub = hub
        self.config = config
        self.principal = scope.get("principal")
        self.subs: dict[str, Subscription] = {}
        self.position_filter: PositionFilter | None = None
        self.parts: deque[str] = deque()  # the unsent frames of the position batch being sent
        self.next_batch: list[str] | Callable[[], list[str]] | None = None  # the batch to send after it
        self.batch_snapshot = False
        self.batch_spread = max(0.0, min(config.position_spread_s, 0.8 * config.tick_s))  # a batch's parts over this
        self.part_gap = 0.0  # seconds between the parts of the batch being sent
        self.part_due = 0.0  # loop time before which its next part waits
        self._part_timer: asyncio.TimerHandle | None = None
        self.frames: deque[str] = deque()
        self.position_window = min(config.position_window_bytes, config.send_window_bytes)
        self.chunk = max(1, min(500, config.queue_frames // 4))
        self.bucket = TokenBucket(config.ops_per_s, config.ops_burst)
        # pongs answer the server's own pings (one per quarter window), so they have a bucket of their own
        self.pong_bucket = TokenBucket(100 * config.ops_per_s, 100 * config.ops_burst)
        self.position_bucket = TokenBucket(config.position_ops_per_s, config.position_ops_burst)
        self.sent = 0
        self.acked = 0
        self.ping_n = 0
        self.pings: dict[int, int] = {}
        self.sent_at_ping = 0
        self.pinged_at = time.monotonic()
        self.heard_at = time.monotonic()
        self.refused_at = 0.0
        self.refused = 0
        self.close_code: Close | None = None
        self.close_reason = ""
        self._wake = asyncio.Event()
        self._drained = asyncio.Event()
        self._writer: asyncio.Task | None = None
        self._auth_timer: asyncio.TimerHandle | None = None
        self._recheck: asyncio.Task | None = None
        self._beat_timer: asyncio.TimerHandle | None = None

    # ---- outgoing -------------------------------------------------------------------------

    def push(self, frame: str) -> bool:
        """Queue a frame; False (and the connection closing as too slow) when the queue is full."""
        if self.close_code is not None:
            return False
        if len(self.frames) >= self.config.queue_frames:
            self.close_soon(Close.TOO_SLOW, "outgoing queue full: resume with since")
            return False
        self.frames.append(frame)
        self._wake.set()
        return True

    def push_json(self, message: dict[str, Any]) -> bool:
        """Queue a control message."""
        return self.push(dumps(message))

    def offer_batch(self, delta: list[str] | None, snapshot: Callable[[], list[str]]) -> None:
        """Take this tick's position batch: the delta, or the snapshot if the previous one has not started.

        The first batch after subscribing is the snapshot; a batch being sent is finished first.
        """
        if self.close_code is not None or (delta is None and not self.batch_snapshot):
            return
        self.next_batch = snapshot if self.batch_snapshot or self.next_batch is not None else delta
        self.batch_snapshot = False
        self._wake.set()

    def error(self, code: str, detail: Any, **extra: Any) -> None:
        """Queue an `error` frame; the connection stays open."""
        self.push_json({"op": "error", "code": code, "detail": detail, **extra})

    async def drained(self) -> None:
        """Wait until the queue is down to a quarter of its limit."""
        while len(self.frames) > self.config.queue_frames // 4 and self.close_code is None:
            self._drained.clear()
            await self._drained.wait()

    def close_soon(self, code: Close, reason: str, flush: bool = False) -> None:
        """Close the connection with `code`; after the queued frames when `flush`, else at once."""
        if self.close_code is not None:
            return
        self.close_code, self.close_reason = code, reason
        if not flush:
            self.frames.clear()
        self._wake.set()
        self._drained.set()

    async def _write_loop(self) -> None:
        heartbeat = self.config.heartbeat_s
        # ping often enough that a pong frees position window before the batch in flight is consumed
        ping_every = max(1, min(self.config.send_window_bytes, 2 * self.position_window) // 4)
        while True:
            self._wake.clear()
            now = time.monotonic()
            if self.close_code is None and now - self.heard_at > 3 * heartbeat:
                self.close_soon(Close.HEARTBEAT_TIMEOUT, "no frame from the client")
            if self.close_code is None and (
                now - self.pinged_at >= heartbeat or self.sent - self.sent_at_ping >= ping_every
            ):
                await self._ping()
            if self.close_code is not None and not self.frames:
                close = {"type": "websocket.close", "code": int(self.close_code), "reason": self.close_reason[:120]}
                await self._send(close)
                return
            frame, is_part = self._next_frame()
            if frame is None:
                await self._wake.wait()  # set by every change, and by _beat
                continue
            await self._send({"type": "websocket.send", "text": frame})
            self.sent += len(frame)
            if is_part and self.parts:
                await self._pace_parts()

    async def _pace_parts(self) -> None:
        """Hold the batch's next part for one gap, so 100 screens' batches do not go out as one burst."""
        if self.part_gap <= 0:
            await asyncio.sleep(0)  # still let events that arrived meanwhile go before the next part
            return
        loop = asyncio.get_running_loop()
        self.part_due = loop.time() + self.part_gap
        self._part_timer = loop.call_at(self.part_due, self._wake.set)

    def _next_frame(self) -> tuple[str | None, bool]:
        """The next frame the window allows (a queued one first, else a position part) and if it is a part."""
        in_flight = self.sent - self.acked
        if self.frames:
            if in_flight > self.config.send_window_bytes and self.close_code is None:
                return None, False
            frame = self.frames.popleft()
            if len(self.frames) <= self.config.queue_frames // 4:
                self._drained.set()
            return frame, False
        if self.close_code is not None or in_flight > self.position_window:
            return None, False
        if not self.parts:
            if self.next_batch is None:
                return None, False
            batch, self.next_batch = self.next_batch, None
            self.parts.extend(batch if isinstance(batch, list) else batch())
            self.part_gap = self.batch_spread / len(self.parts)
        elif asyncio.get_running_loop().time() < self.part_due:
            return None, False
        return self.parts.popleft(), True

    def _beat(self) -> None:
        """Wake the writer twice a heartbeat (a timer per beat, not one per wait: no garbage per frame)."""
        self._wake.set()
        self._beat_timer = asyncio.get_running_loop().call_later(self.config.heartbeat_s / 2, self._beat)

    async def _ping(self) -> None:
        self.ping_n += 1
        frame = f'{{"op":"ping","n":{self.ping_n}}}'
        await self._send({"type": "websocket.send", "text": frame})
        self.sent += len(frame)
        self.pings[self.ping_n] = self.sent
        self.sent_at_ping = self.sent
        self.pinged_at = time.monotonic()
        if len(self.pings) > 64:  # a client that never answers: forget the oldest
            del self.pings[min(self.pings)]

    # ---- incoming -------------------------------------------------------------------------

    async def run(self, receive: Any) -> None:
        """Serve the connection until the client leaves."""
        message = await receive()
        if message["type"] != "websocket.connect":
            return
        await self._send({"type": "websocket.accept"})
        loop = asyncio.get_running_loop()
        self._writer = loop.create_task(self._write_loop())
        self._beat_timer = loop.call_later(self.config.heartbeat_s / 2, self._beat)
        token = query_token(self.scope)
        try:
            if self.principal is not None:
                self._hello()
                self._watch(token)
            elif token:
                self._refuse("invalid or revoked token")
            else:
                self._auth_timer = loop.call_later(self.config.auth_timeout_s, self._refuse, "no auth frame in time")
            while True:
                message = await receive()
                if message["type"] == "websocket.disconnect":
                    return
                if message["type"] == "websocket.receive" and self.close_code is None:
                    await self._on_frame(message)
        finally:
            self._cleanup()

    def _cleanup(self) -> None:
        for timer in (self._auth_timer, self._beat_timer, self._part_timer):
            if timer is not None:
                timer.cancel()
        if self._recheck is not None:
            self._recheck.cancel()
        for sub in self.subs.values():
            sub.close()
        self.subs.clear()
        self._leave_positions()
        if self._writer is not None:
            self._writer.cancel()

    def _hello(self) -> None:
        principal = self.principal
        self.push_json(
            {
                "op": "hello",
                "role": principal.role,
                "name": principal.name,
                "heartbeat_s": self.config.heartbeat_s,
                "max_frame_bytes": self.config.max_frame_bytes,
            }
        )

    def _watch(self, token: str | None) -> None:
        """Check the connection's token, or else its session, every `token_recheck_s`; once refused, close (4001)."""
        if token:
            path, credential, ended = self.config.authenticator, token, "the token was revoked"
        elif key := session_key(self.scope):
            path, credential, ended = self.config.session_authenticator, key, "the session ended (logged out)"
        else:
            return
        self._recheck = asyncio.get_running_loop().create_task(self._recheck_loop(path, credential, ended))

    async def _recheck_loop(self, path: str, credential: str, ended: str) -> None:
        interval = self.config.token_recheck_s
        # The first wait is spread over the interval, so screens that connected together (after a restart, say)
        # do not all check at once; a check shared by connections with the same credential is made once.
        delay = interval * random.uniform(0.5, 1.0)
        while self.close_code is None:
            await asyncio.sleep(delay)
            delay = interval
            try:
                principal = await recheck(path, credential, interval / 2)
            except Exception:  # the database is away: keep serving, check again next time
                log.warning("hub: could not check a connection's credentials again", exc_info=True)
                continue
            if principal is None:
                self._refuse(ended)
                return

    def _refuse(self, detail: str) -> None:
        self.error(p.UNAUTHENTICATED, detail)
        self.close_soon(Close.UNAUTHENTICATED, detail, flush=True)

    async def _on_frame(self, message: dict) -> None:
        self.heard_at = time.monotonic()
        request = self._parse(message)
        is_pong = isinstance(request, dict) and request["op"] == "pong"
        if not (self.pong_bucket if is_pong else self.bucket).take():
            self._over_rate()
            return
        if not isinstance(request, dict):
            self.error(*request)
            return
        try:
            await self._dispatch(request)
        except (RedisError, OSError) as exc:
            log.warning("hub: event store failed during %s: %s", request["op"], exc)
            self.close_soon(Close.UNAVAILABLE, "event store unavailable, resume later")
        except Exception:  # a bug must cost one request, never the process or the connection
            log.exception("hub: %s failed", request["op"])
            self.error(p.BAD_REQUEST, "the request could not be handled")

    def _parse(self, message: dict) -> dict | tuple[str, str]:
        """The request of a frame, or the (code, detail) of the error it deserves."""
        text = message.get("text")
        if text is None:
            return p.BINARY_NOT_SUPPORTED, "send JSON text frames"
        limit = self.config.max_frame_bytes
        if len(text) > limit or (len(text) * 4 > limit and len(text.encode()) > limit):
            return p.FRAME_TOO_LARGE, f"frames are limited to {limit} bytes"
        try:
            request = json.loads(text)
        except ValueError:
            return p.BAD_JSON, "the frame is not valid JSON"
        if not isinstance(request, dict) or not isinstance(request.get("op"), str):
            return p.BAD_REQUEST, 'a frame is a JSON object with an "op"'
        return request

    def _over_rate(self) -> None:
        now = time.monotonic()
        self.refused += 1
        if self.refused > 10 * self.config.ops_burst:
            self.close_soon(Close.RATE_LIMITED, "too many requests")
        elif now - self.refused_at >= 1.0:
            self.refused_at = now
            self.error(p.RATE_LIMITED, f"at most {self.config.ops_per_s:g} requests per second")

    async def _dispatch(self, request: dict) -> None:
        op = request["op"]
        if op == "pong":
            self._on_pong(request.get("n"))
        elif op == "ping":
            self.push_json({"op": "pong"})
        elif op == "auth":
            await self._on_auth(request.get("token"))
        elif self.principal is None:
            self._refuse("authenticate first")
        elif op == "subscribe":
            await self._on_subscribe(request)
        elif op == "unsubscribe":
            self._on_unsubscribe(request.get("topic"))
        elif op in ("position", "positions"):
            await self._on_positions(request)
        else:
            self.error(p.UNKNOWN_OP, f"unknown op {op[:40]!r}")

    def _on_pong(self, n: Any) -> None:
        if not isinstance(n, int) or n not in self.pings:
            return
        self.acked = max(self.acked, self.pings[n])
        for old in [k for k in self.pings if k <= n]:
            del self.pings[old]
        self._wake.set()

    async def _on_auth(self, token: Any) -> None:
        if self.principal is not None:
            self.error(p.BAD_REQUEST, "already authenticated")
            return
        principal = await authenticate(self.config.authenticator, token)
        if principal is None:
            self._refuse("invalid or revoked token")
            return
        if self._auth_timer is not None:
            self._auth_timer.cancel()
        self.principal = principal
        self._hello()
        self._watch(token)

    async def _on_subscribe(self, request: dict) -> None:
        topic = request.get("topic")
        if not valid_topic(topic):
            self.error(p.BAD_TOPIC, "no such topic", topic=str(topic)[:80])
            return
        if not may_subscribe(self.principal, topic):
            self.error(p.FORBIDDEN, f"role {self.principal.role} may not subscribe to {topic}", topic=topic)
            return
        try:
            since = parse_since(request.get("since"))
        except ValueError as exc:
            self.error(p.BAD_SINCE, str(exc), topic=topic)
            return
        if topic == POSITIONS:
            await self._subscribe_positions(request.get("filter"))
            return
        if topic in self.subs:
            self.subs.pop(topic).close()
        if len(self.subs) >= self.config.max_subscriptions:
            self.error(p.TOO_MANY_SUBSCRIPTIONS, f"at most {self.config.max_subscriptions}", topic=topic)
            return
        sub = self.subs[topic] = Subscription(self.hub, self, topic)
        await sub.open(since)

    async def _subscribe_positions(self, raw_filter: Any) -> None:
        try:
            position_filter = PositionFilter.parse(raw_filter)
        except ValueError as exc:
            self.error(p.BAD_FILTER, str(exc), topic=POSITIONS)
            return
        board = await self.hub.position_board()
        self._leave_positions()
        head = await self.hub.streams.read(POSITIONS, None, 0)
        self.push_json(
            {
                "op": "subscribed",
                "topic": POSITIONS,
                "epoch": head.epoch,
                "offset": head.head,
                "head": head.head,
                "recovered": True,
                "missed": [],
                "coalesced": True,
            }
        )
        self.position_filter = position_filter
        self.batch_snapshot = True
        board.add(self, position_filter)

    async def _on_positions(self, request: dict) -> None:
        ref = request.get("id") if isinstance(request.get("id"), int | str) else None
        tag = {} if ref is None else {"id": ref if isinstance(ref, int) else ref[:64]}
        worker_id = getattr(self.principal, "worker_id", None)
        if self.principal.role != "worker" or worker_id is None or not self.hub.ingest.enabled:
            self.error(p.FORBIDDEN, f"role {self.principal.role} may not publish positions", **tag)
            return
        if not self.position_bucket.take():
            limit = self.config.position_ops_per_s
            self.error(p.RATE_LIMITED, f"at most {limit:g} position frames per second; fix not stored", **tag)
            return
        try:
            items = fixes_of(request, worker_id, self.config.position_batch_max)
            result = await self.hub.ingest.submit(items)
        except Refused as exc:
            self.error(exc.code, exc.detail, **tag)
            return
        except Exception as exc:
            if not hasattr(exc, "detail"):
                log.exception("hub: position ingest failed")
                self.error(p.INGEST_FAILED, "the fixes could not be stored", **tag)
                return
            self.error(p.INVALID_POSITION, exc.detail, **tag)
            return
        self.push_json({"op": "ack", **tag, "result": result})

    def _leave_positions(self) -> None:
        if self.position_filter is not None:
            self.hub.board.remove(self, self.position_filter)
            self.position_filter = None
            self.parts.clear()
            self.next_batch = None

    def _on_unsubscribe(self, topic: Any) -> None:
        if topic == POSITIONS and self.position_filter is not None:
            self._leave_positions()
            self.push_json({"op": "unsubscribed", "topic": topic})
            return
        sub = self.subs.pop(topic, None) if isinstance(topic, str) else None
        if sub is None:
            self.error(p.NOT_SUBSCRIBED, "not subscribed", topic=str(topic)[:80])
            return
        sub.close()
        self.push_json({"op": "unsubscribed", "topic": topic})


async def hub_endpoint(scope: dict, receive: Any, send: Any) -> None:
    """ASGI application of `/ws/hub`."""
    if scope["type"] != "websocket":
        return
    await Connection(scope, send, get_hub(), hub_config()).run(receive)
