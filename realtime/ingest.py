"""Position ingest over the hub: a `worker` sends its own fixes, handed to the sink named in settings.

The sink (`WALL_HUB_POSITION_SINK`, a dotted path so `realtime` imports no domain code) takes a
list of dicts {worker_id, lat, lon, at (datetime), accuracy_m?, speed_mps?, heading?}, stores and
publishes them, and returns a summary; an exception with a `.detail` refuses the batch.
It runs in a worker thread (database work), at most `position_concurrency` at once per process.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from channels.db import database_sync_to_async
from django.utils.module_loading import import_string

_OPTIONAL = ("accuracy_m", "speed_mps", "heading")
_KEYS = frozenset({"worker_id", "lat", "lon", "at", *_OPTIONAL})


class Refused(Exception):
    """A position frame refused before reaching the sink: an error `code` and its `detail`."""

    def __init__(self, code: str, detail: Any) -> None:
        super().__init__(str(detail))
        self.code = code
        self.detail = detail


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _moment(value: Any) -> datetime:
    """An ISO 8601 string or epoch seconds as an aware datetime; ValueError otherwise."""
    if _number(value):
        return datetime.fromtimestamp(value, tz=UTC)
    if isinstance(value, str) and len(value) <= 40:
        at = datetime.fromisoformat(value)
        return at if at.tzinfo is not None else at.replace(tzinfo=UTC)
    raise ValueError("at is an ISO 8601 time or epoch seconds")


def fixes_of(request: dict, worker_id: int, max_items: int) -> list[dict[str, Any]]:
    """The sink items of a `position` or `positions` frame, stamped with `worker_id`; Refused when malformed."""
    single = request["op"] == "position"
    raw = [{k: v for k, v in request.items() if k not in ("op", "id")}] if single else request.get("items")
    if not isinstance(raw, list) or not 1 <= len(raw) <= max_items:
        raise Refused("invalid_position", f"items is a list of 1 to {max_items} fixes")
    items, errors = [], {}
    for index, item in enumerate(raw):
        where = "fix" if single else f"items[{index}]"
        if not isinstance(item, dict) or set(item) - _KEYS:
            errors[where] = f"a fix has only the keys {', '.join(sorted(_KEYS))}"
            continue
        if item.get("worker_id", worker_id) != worker_id:
            raise Refused("forbidden", "a worker may publish only its own position")
        try:
            items.append(_fix(item, worker_id))
        except ValueError as exc:
            errors[where] = str(exc)
    if errors:
        raise Refused("invalid_position", errors)
    return items


def _fix(fields: dict[str, Any], worker_id: int) -> dict[str, Any]:
    if not (_number(fields.get("lat")) and _number(fields.get("lon"))):
        raise ValueError("lat and lon are numbers")
    fix = {"worker_id": worker_id, "lat": fields["lat"], "lon": fields["lon"], "at": _moment(fields.get("at"))}
    for name in _OPTIONAL:
        if fields.get(name) is not None:
            if not _number(fields[name]):
                raise ValueError(f"{name} is a number")
            fix[name] = fields[name]
    return fix


class PositionIngest:
    """Runs the sink for the connections of one process, a bounded number at a time."""

    def __init__(self, sink_path: str, concurrency: int) -> None:
        self.sink_path = sink_path
        self._slots = asyncio.Semaphore(max(1, concurrency))
        self._sink: Callable[[list[dict[str, Any]]], Any] | None = None

    @property
    def enabled(self) -> bool:
        """Whether a sink is configured."""
        return bool(self.sink_path)

    async def submit(self, items: list[dict[str, Any]]) -> Any:
        """Hand `items` to the sink in a worker thread; its summary, or its exception."""
        if self._sink is None:
            self._sink = import_string(self.sink_path)
        async with self._slots:
            return await database_sync_to_async(self._sink, thread_sensitive=False)(items)
