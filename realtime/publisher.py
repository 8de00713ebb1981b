"""publish(topic, event): the one entry point every producer uses."""

from __future__ import annotations

from typing import Any

from realtime import backend
from realtime.topics import valid_topic


def _check(topic: str) -> None:
    if not valid_topic(topic):
        raise ValueError(f"invalid topic {topic!r}")


def publish(topic: str, event: dict[str, Any]) -> int:
    """Append `event` ({"type": str, "data": dict}) to `topic`; return its offset.

    Returns 0 when Redis is unreachable: the event is then kept and appended, in order, once it
    answers again (HubUnavailable is raised only when that queue is full).
    """
    _check(topic)
    return backend.sync_streams().append_many(topic, [event])


def publish_many(topic: str, events: list[dict[str, Any]]) -> int:
    """Append several events to `topic` in one step; return the offset of the last one."""
    _check(topic)
    return backend.sync_streams().append_many(topic, events) if events else 0


async def apublish(topic: str, event: dict[str, Any]) -> int:
    """publish() for async code: appends without blocking the event loop."""
    from realtime.hub import get_hub

    _check(topic)
    return await get_hub().streams.append_many(topic, [event])
