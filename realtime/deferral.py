"""Appends that outlive a Redis outage: events the store refused wait here, in order, and a thread
appends them once it answers again. A producer never loses an event it handed over."""

from __future__ import annotations

import logging
import threading
import time
from collections import deque

from redis.exceptions import RedisError

from realtime.redis_streams import RedisStreams

log = logging.getLogger("realtime.deferral")


class HubUnavailable(RuntimeError):
    """The event store is unreachable and the deferral queue is full: the event was not accepted."""


class DeferringStreams:
    """RedisStreams whose appends are queued (offset 0 returned) while Redis is unreachable."""

    def __init__(self, streams: RedisStreams, limit: int = 100_000) -> None:
        self.streams = streams
        self.limit = limit
        self.pending: deque[tuple[str, list[dict]]] = deque()
        self._lock = threading.Lock()
        self._flusher: threading.Thread | None = None

    def append_many(self, topic: str, events: list[dict]) -> int:
        """Append now when nothing waits and Redis answers; else queue behind the waiting ones (0)."""
        if not self.pending:
            try:
                return self.streams.append_many(topic, events)
            except (RedisError, OSError) as exc:
                log.warning("hub: event store unreachable (%s); deferring events", exc)
        with self._lock:
            if sum(len(batch) for _, batch in self.pending) + len(events) > self.limit:
                raise HubUnavailable("event store unreachable and the deferral queue is full")
            self.pending.append((topic, events))
            if self._flusher is None or not self._flusher.is_alive():
                self._flusher = threading.Thread(target=self._flush, name="hub-deferral", daemon=True)
                self._flusher.start()
        return 0

    def _flush(self) -> None:
        delay = 0.05
        while True:
            with self._lock:
                if not self.pending:
                    return
                topic, events = self.pending[0]
            try:
                self.streams.append_many(topic, events)
            except (RedisError, OSError):
                time.sleep(delay)
                delay = min(delay * 2, 1.0)
                continue
            delay = 0.05
            with self._lock:
                self.pending.popleft()  # only now, so a concurrent publish never overtakes it

    def wait_flushed(self, timeout: float) -> bool:
        """Wait until every deferred event is appended; False on timeout."""
        deadline = time.monotonic() + timeout
        while self.pending and time.monotonic() < deadline:
            time.sleep(0.01)
        return not self.pending
