"""Position coalescing: the latest position per worker, sent as one `batch` per tick.

The board of a process keeps the newest item of every worker. Each tick it builds, per distinct
filter, one delta frame (workers moved since the last tick) and, only if some client needs it,
one snapshot frame (every worker in the filter); all clients with that filter share those strings.
A client whose previous batch is still unsent gets the snapshot in its place: latest wins.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from typing import Any, Protocol

from realtime.envelope import Event, dumps
from realtime.topics import POSITIONS

_ID_FIELDS = ("grid_id", "street_id", "department_id", "state")


class BatchOutlet(Protocol):
    """What the board needs of a connection."""

    def offer_batch(self, delta: str | None, snapshot: Any) -> None: ...


@dataclass(frozen=True)
class PositionFilter:
    """bbox [min_lon, min_lat, max_lon, max_lat] and sets of grid/street/department ids or states."""

    bbox: tuple[float, float, float, float] | None = None
    grid_id: frozenset | None = None
    street_id: frozenset | None = None
    department_id: frozenset | None = None
    state: frozenset | None = None

    @classmethod
    def parse(cls, raw: Any) -> PositionFilter:
        """Validate a client's filter object; ValueError when malformed."""
        if raw is None:
            return cls()
        if not isinstance(raw, dict) or set(raw) - {"bbox", *_ID_FIELDS}:
            raise ValueError(f"filter keys are bbox, {', '.join(_ID_FIELDS)}")
        values: dict[str, Any] = {}
        if raw.get("bbox") is not None:
            box = raw["bbox"]
            if not (isinstance(box, list) and len(box) == 4 and all(_is_number(v) for v in box)):
                raise ValueError("bbox is [min_lon, min_lat, max_lon, max_lat]")
            if box[0] > box[2] or box[1] > box[3]:
                raise ValueError("bbox minimum exceeds maximum")
            values["bbox"] = tuple(float(v) for v in box)
        for name in _ID_FIELDS:
            if raw.get(name) is None:
                continue
            ids = raw[name] if isinstance(raw[name], list) else [raw[name]]
            if not ids or len(ids) > 1000 or not all(isinstance(v, int | str) and not isinstance(v, bool) for v in ids):
                raise ValueError(f"{name} is an id or a list of up to 1000 ids")
            values[name] = frozenset(ids)
        return cls(**values)

    def matches(self, item: dict) -> bool:
        """Whether a position item passes (a filtered field missing from the item fails)."""
        if self.bbox is not None:
            lon, lat = item.get("lon"), item.get("lat")
            if not (_is_number(lon) and _is_number(lat)):
                return False
            if not (self.bbox[0] <= lon <= self.bbox[2] and self.bbox[1] <= lat <= self.bbox[3]):
                return False
        for name in _ID_FIELDS:
            wanted = getattr(self, name)
            if wanted is not None and item.get(name) not in wanted:
                return False
        return True


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


class _View:
    """Clients sharing one filter."""

    def __init__(self, position_filter: PositionFilter) -> None:
        self.filter = position_filter
        self.outlets: set[BatchOutlet] = set()


class PositionBoard:
    """Latest position per worker in this process and the per-tick batches built from them."""

    def __init__(self, tick_s: float) -> None:
        self.tick_s = tick_s
        self.latest: dict[Any, tuple[dict, str, int]] = {}
        self.changed: dict[Any, tuple[dict, str, int]] = {}
        self.views: dict[PositionFilter, _View] = {}
        self._task: asyncio.Task | None = None

    def offer(self, events: list[Event]) -> None:
        """Take position events: each replaces its worker's previous item."""
        for event in events:
            frame = event.frame
            raw = frame[frame.index('"data":') + 7 : -1]  # "data" is the last key of every frame
            item = json.loads(raw)
            key = item.get("worker_id") if isinstance(item, dict) else None
            if key is None or isinstance(key, dict | list):
                continue
            known = self.latest.get(key)
            if known is not None and known[2] >= event.offset:
                continue  # the seed read older history after newer live events
            self.latest[key] = self.changed[key] = (item, raw, event.offset)

    def epoch_changed(self) -> None:
        """The stream restarted from offset 1: keep the items, forget their old offsets."""
        self.latest = {key: (item, raw, 0) for key, (item, raw, _) in self.latest.items()}

    def add(self, outlet: BatchOutlet, position_filter: PositionFilter) -> None:
        """Send batches of `position_filter` to `outlet`, starting with a snapshot."""
        view = self.views.get(position_filter)
        if view is None:
            view = self.views[position_filter] = _View(position_filter)
        view.outlets.add(outlet)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(), name="hub-positions")

    def remove(self, outlet: BatchOutlet, position_filter: PositionFilter) -> None:
        """Stop sending batches to `outlet`."""
        view = self.views.get(position_filter)
        if view is not None:
            view.outlets.discard(outlet)
            if not view.outlets:
                del self.views[position_filter]
        if not self.views and self._task is not None:
            self._task.cancel()
            self._task = None

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.tick_s)
            self.flush()

    def flush(self) -> None:
        """Hand this tick's batches to every outlet."""
        changed, self.changed = self.changed, {}
        now = round(time.time(), 3)
        for view in list(self.views.values()):
            delta = _frame(now, False, [raw for item, raw, _ in changed.values() if view.filter.matches(item)])
            snapshot = _LazySnapshot(self, view.filter, now)
            for outlet in list(view.outlets):
                outlet.offer_batch(delta, snapshot)


class _LazySnapshot:
    """The snapshot frame of a view, built on first use and then shared."""

    def __init__(self, board: PositionBoard, position_filter: PositionFilter, ts: float) -> None:
        self.board = board
        self.filter = position_filter
        self.ts = ts
        self._frame: str | None = None

    def __call__(self) -> str:
        if self._frame is None:
            raws = [raw for item, raw, _ in self.board.latest.values() if self.filter.matches(item)]
            self._frame = _frame(self.ts, True, raws) or _frame(self.ts, True, [], empty_ok=True)
        return self._frame  # type: ignore[return-value]


def _frame(ts: float, snapshot: bool, raws: list[str], empty_ok: bool = False) -> str | None:
    if not raws and not empty_ok:
        return None
    head = f'{{"op":"batch","topic":{dumps(POSITIONS)},"ts":{ts},"snapshot":{"true" if snapshot else "false"}'
    return f'{head},"items":[{",".join(raws)}]}}'
