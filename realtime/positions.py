"""Position coalescing: the latest position per worker, sent as one `batch` per tick.

The board of a process keeps the newest item of every worker. Each tick it builds, per distinct
filter, one delta batch (workers moved since the last tick) and, only if some client needs it,
one snapshot batch (every worker in the filter); all clients with that filter share those strings.
A batch is one or more frames (`part` i of `parts`, at most `part_items` items each, compact items of
realtime/position_format.py, encoded once as each move comes in). A client whose previous batch has not
started yet gets the snapshot in its place: latest wins.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from realtime.envelope import Event, dumps, loads
from realtime.position_format import FIELDS, FORMAT, StateCodes, encode_item
from realtime.topics import POSITIONS

_ID_FIELDS = ("grid_id", "street_id", "department_id", "state")


class BatchOutlet(Protocol):
    """What the board needs of a connection."""

    def offer_batch(self, delta: list[str] | None, snapshot: Callable[[], list[str]]) -> None: ...


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

    @staticmethod
    def values_of(item: dict) -> tuple:
        """What filters look at in a position item: (lon, lat, grid_id, street_id, department_id, state)."""
        return (item.get("lon"), item.get("lat"), *map(item.get, _ID_FIELDS))

    def matches(self, values: tuple) -> bool:
        """Whether a position with these values_of() passes (a filtered field missing from the item fails)."""
        lon, lat, *ids = values
        if self.bbox is not None:
            if not (_is_number(lon) and _is_number(lat)):
                return False
            if not (self.bbox[0] <= lon <= self.bbox[2] and self.bbox[1] <= lat <= self.bbox[3]):
                return False
        for name, value in zip(_ID_FIELDS, ids, strict=True):
            wanted = getattr(self, name)
            if wanted is not None and value not in wanted:
                return False
        return True


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


class _View:
    """Clients sharing one filter."""

    def __init__(self, position_filter: PositionFilter) -> None:
        self.filter = position_filter
        self.outlets: set[BatchOutlet] = set()


# A worker's newest position: its filter values, the offset it came at and its compact text. Tuples of plain
# values only: the garbage collector stops tracking them, so thousands replaced a second cost it nothing.
_Latest = tuple[tuple, int, str]


class PositionBoard:
    """Latest position per worker in this process and the per-tick batches built from them."""

    def __init__(self, tick_s: float, part_items: int = 500) -> None:
        self.tick_s = tick_s
        self.part_items = max(1, part_items)
        self.latest: dict[Any, _Latest] = {}
        self.changed: dict[Any, _Latest] = {}
        self.views: dict[PositionFilter, _View] = {}
        self.states = StateCodes()
        self._task: asyncio.Task | None = None

    def offer(self, events: list[Event]) -> None:
        """Take position events: each replaces its worker's previous item."""
        for event in events:
            frame = event.frame
            item = loads(frame[frame.index('"data":') + 7 : -1])  # "data" is the last key of every frame
            key = item.get("worker_id") if isinstance(item, dict) else None
            if key is None or isinstance(key, dict | list):
                continue
            known = self.latest.get(key)
            if known is not None and known[1] >= event.offset:
                continue  # the seed read older history after newer live events
            # encoded as it comes, so a tick only joins strings (no burst of work delaying events)
            entry = (PositionFilter.values_of(item), event.offset, encode_item(item, self.states))
            self.latest[key] = self.changed[key] = entry

    def epoch_changed(self) -> None:
        """The stream restarted from offset 1: keep the items, forget their old offsets."""
        self.latest = {key: (values, 0, text) for key, (values, _, text) in self.latest.items()}

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
            moved = _texts(changed.values(), view.filter)
            delta = self.frames(now, False, moved) if moved else None
            snapshot = _LazySnapshot(self, view.filter, now)
            for outlet in list(view.outlets):
                outlet.offer_batch(delta, snapshot)

    def frames(self, ts: float, snapshot: bool, texts: list[str]) -> list[str]:
        """The frames of one batch: `texts` in parts of at most `part_items` (one empty part if none)."""
        size = self.part_items
        parts = max(1, -(-len(texts) // size))
        head = (
            f'{{"op":"batch","topic":{_TOPIC},"v":{FORMAT},"ts":{ts},"snapshot":{"true" if snapshot else "false"},'
            f'"fields":{_FIELDS},"states":{dumps(self.states.names)}'
        )
        return [
            f'{head},"part":{i + 1},"parts":{parts},"items":[{",".join(texts[i * size : (i + 1) * size])}]}}'
            for i in range(parts)
        ]


_TOPIC = dumps(POSITIONS)
_FIELDS = dumps(FIELDS)
_EVERYTHING = PositionFilter()


def _texts(entries: Iterable[_Latest], position_filter: PositionFilter) -> list[str]:
    """The compact items of the entries that pass the filter."""
    if position_filter == _EVERYTHING:
        return [text for _, _, text in entries]
    return [text for values, _, text in entries if position_filter.matches(values)]


class _LazySnapshot:
    """The snapshot frames of a view, built on first use and then shared."""

    def __init__(self, board: PositionBoard, position_filter: PositionFilter, ts: float) -> None:
        self.board = board
        self.filter = position_filter
        self.ts = ts
        self._frames: list[str] | None = None

    def __call__(self) -> list[str]:
        if self._frames is None:
            board = self.board
            self._frames = board.frames(self.ts, True, _texts(board.latest.values(), self.filter))
        return self._frames
