"""In-process streams: a ring buffer per topic with gap-free offsets, bounded by length and age."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

from realtime.envelope import Event, Page, event_frame, event_tail, new_epoch

Listener = Callable[[str, list[Event]], None]


class MemoryStreams:
    """Thread-safe per-topic history, the same semantics as the Redis streams."""

    def __init__(self, maxlen: int, max_age_s: float) -> None:
        self.maxlen = maxlen
        self.max_age_s = max_age_s
        self.epoch = new_epoch()
        self._lock = threading.Lock()
        self._heads: dict[str, int] = {}
        self._logs: dict[str, deque[tuple[float, Event]]] = {}
        self._listeners: list[Listener] = []

    def append_many(self, topic: str, events: list[dict]) -> int:
        """Append events to `topic`, tell the listeners; return the offset of the last one."""
        tails = [event_tail(event) for event in events]
        now = time.monotonic()
        with self._lock:
            head = self._heads.get(topic, 0)
            log = self._logs.setdefault(topic, deque(maxlen=self.maxlen))
            stored = []
            for tail in tails:
                head += 1
                event = Event(topic, self.epoch, head, event_frame(topic, self.epoch, head, tail))
                log.append((now, event))
                stored.append(event)
            self._heads[topic] = head
            self._trim(log, now)
            listeners = list(self._listeners)
        for listener in listeners:
            listener(topic, stored)
        return head

    def _trim(self, log: deque[tuple[float, Event]], now: float) -> None:
        while log and now - log[0][0] > self.max_age_s:
            log.popleft()

    def read(self, topic: str, after: int | None, limit: int) -> Page:
        """The epoch, head and up to `limit` events with offsets above `after` (none when None)."""
        with self._lock:
            head = self._heads.get(topic, 0)
            log = self._logs.get(topic)
            events: list[Event] = []
            if log and after is not None and after < head:
                self._trim(log, time.monotonic())
                first = log[0][1].offset if log else head + 1
                start = max(after + 1, first) - first
                events = [log[i][1] for i in range(start, min(start + limit, len(log)))]
            return Page(self.epoch, head, events)

    def add_listener(self, listener: Listener) -> None:
        """Call `listener(topic, events)` after every append, in the appending thread."""
        with self._lock:
            self._listeners.append(listener)

    def remove_listener(self, listener: Listener) -> None:
        """Stop calling `listener`."""
        with self._lock:
            if listener in self._listeners:
                self._listeners.remove(listener)
