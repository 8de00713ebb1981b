"""publish(topic, event): the one entry point every producer uses.

Placeholder until the hub lands: an in-process ring buffer per topic with gap-free offsets.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

_lock = threading.Lock()
_offsets: dict[str, int] = {}
_history: dict[str, deque[dict[str, Any]]] = {}
_listeners: list[Callable[[dict[str, Any]], None]] = []
EPOCH = str(int(time.time()))


def publish(topic: str, event: dict[str, Any]) -> int:
    """Append `event` ({"type": ..., "data": {...}}) to `topic`; return its offset."""
    with _lock:
        offset = _offsets.get(topic, 0) + 1
        _offsets[topic] = offset
        envelope = {
            "op": "event",
            "topic": topic,
            "epoch": EPOCH,
            "offset": offset,
            "ts": time.time(),
            "type": event["type"],
            "data": event.get("data", {}),
        }
        _history.setdefault(topic, deque(maxlen=10_000)).append(envelope)
        listeners = list(_listeners)
    for listener in listeners:
        listener(envelope)
    return offset


def history(topic: str) -> list[dict[str, Any]]:
    """Events still held for `topic`, oldest first."""
    with _lock:
        return list(_history.get(topic, ()))


def add_listener(listener: Callable[[dict[str, Any]], None]) -> None:
    """Call `listener` with every published envelope (in the publishing thread)."""
    with _lock:
        _listeners.append(listener)
