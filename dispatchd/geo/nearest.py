"""The live spatial index of field workers: k nearest with filters, exact, safe under concurrent updates.

Points live on the sphere, expressed in metres in a tangent frame at a reference point (east, north,
up). Neighbours are ranked by the straight-line (chord) distance between those 3-D points, which
orders them exactly as the great-circle distance does. Buckets are a uniform grid of square cells
over (east, north); since |Δeast| and |Δnorth| never exceed the chord, after searching every cell
within Chebyshev ring r of the query's cell, every point closer than r · cell is known, which
is what makes the ring search exact. One grid holds every worker, and one per skill holds the workers
that have it, so a skill filter only visits matching workers. Radius queries (a war room's rings, with
thousands of workers inside) instead scan numpy columns of every worker's coordinates: a few vectorised
passes cost less than visiting each worker in Python. A lock makes every update and query atomic: a
query sees each worker either at its old or at its new place, never twice or not at all.
"""

from __future__ import annotations

import math
import threading
from array import array
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import repeat
from typing import NamedTuple

import numpy as np

from dispatchd.geo.distance import EARTH_RADIUS_M, arc_to_chord_m, chord_to_arc_m, local_frame, to_frame

ALL = ""  # key of the grid that holds every worker


@dataclass(frozen=True, slots=True)
class Member:
    """What the index knows of one worker: where it is and what queries filter on."""

    id: int
    lat: float
    lon: float
    skills: frozenset[str] = frozenset()
    department: int | None = None
    available: bool = True


class _Slot(NamedTuple):
    """A worker's place in the index; a tuple so a query unpacks a bucket's slots in one comprehension."""

    x: float
    y: float
    z: float
    id: int
    available: bool
    department: int | None
    member: Member
    cell: tuple[int, int]
    row: int  # its row in the radius-scan columns


class Hit(NamedTuple):
    """One answer of a nearest query (a tuple: thousands are built per ring query)."""

    member: Member
    distance_m: float


@dataclass
class _Grid:
    cells: dict[tuple[int, int], dict[int, _Slot]] = field(default_factory=dict)

    def add(self, slot: _Slot) -> None:
        self.cells.setdefault(slot.cell, {})[slot.id] = slot

    def discard(self, slot: _Slot) -> None:
        bucket = self.cells.get(slot.cell)
        if bucket is not None:
            bucket.pop(slot.id, None)
            if not bucket:
                del self.cells[slot.cell]


def _ring_offsets(r: int) -> tuple[tuple[int, int], ...]:
    """The (dx, dy) of the cells at Chebyshev distance r from a cell."""
    if r == 0:
        return ((0, 0),)
    edges = [(dx, dy) for dx in range(-r, r + 1) for dy in (-r, r)]
    return tuple(edges + [(dx, dy) for dy in range(-r + 1, r) for dx in (-r, r)])


_RINGS = [_ring_offsets(r) for r in range(33)]
_FIRST = _RINGS[0] + _RINGS[1]


class _Columns:
    """Every worker's coordinates and availability in flat columns, one row per worker, for radius scans.

    The columns are `array.array`s: an update writes a row at the cost of a list item, and a scan copies
    them in a few memory copies. A freed row gets NaN coordinates (never within any radius) and is
    reused by the next new worker.
    """

    def __init__(self) -> None:
        self.x, self.y, self.z = array("d"), array("d"), array("d")
        self.available = bytearray()
        self.ids = array("q")
        self.members: list[Member | None] = []
        self._free: list[int] = []
        self.drops = 0  # rows freed so far: a row holds another worker only after one

    def claim(self, worker_id: int) -> int:
        """A free row for a new worker."""
        if not self._free:
            self._grow()
        row = self._free.pop()
        self.ids[row] = worker_id
        return row

    def put(self, slot: _Slot) -> None:
        row = slot.row
        self.x[row], self.y[row], self.z[row] = slot.x, slot.y, slot.z
        self.available[row] = slot.available
        self.members[row] = slot.member

    def drop(self, row: int) -> None:
        self.x[row] = self.y[row] = self.z[row] = math.nan
        self.members[row] = None
        self._free.append(row)
        self.drops += 1

    def _grow(self) -> None:
        size = len(self.ids)
        more = max(1024, size)
        for column in (self.x, self.y, self.z):
            column.extend(array("d", [math.nan]) * more)
        self.available.extend(bytes(more))
        self.ids.extend(array("q", [0]) * more)
        self.members.extend([None] * more)
        self._free.extend(range(size + more - 1, size - 1, -1))

    def snapshot(self) -> tuple[bytes, bytes, bytes, bytes, bytes, int]:
        """Copies of the coordinate, availability and id columns, and the drop count, without releasing the GIL.

        Plain memory copies, so an update waits for the copy, never for a numpy pass: numpy releases the
        GIL during its passes, and a lock held across one makes every waiting thread queue for the GIL.
        The members list is not copied (100,000 references took longer than all the columns together):
        `pick` reads only the rows a scan kept.
        """
        return bytes(self.x), bytes(self.y), bytes(self.z), bytes(self.available), bytes(self.ids), self.drops

    def pick(self, rows: list[int]) -> list[Member | None]:
        """The members now in `rows` (C-speed item reads: the caller holds the lock)."""
        return list(map(self.members.__getitem__, rows))


class NearestIndex:
    """k-nearest-worker index with skill, department and availability filters."""

    def __init__(self, origin: tuple[float, float] | None = None, cell_m: float = 250.0) -> None:
        """`origin` (lat, lon) is where cells are least distorted; by default the first worker's place."""
        self._frame = local_frame(*origin) if origin else None
        self._cell = float(cell_m)
        self._grids: dict[str, _Grid] = {ALL: _Grid()}
        self._slots: dict[int, _Slot] = {}
        self._columns = _Columns()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._slots)

    def get(self, worker_id: int) -> Member | None:
        """The indexed state of a worker, if present."""
        slot = self._slots.get(worker_id)
        return slot.member if slot else None

    def upsert(self, member: Member) -> None:
        """Insert a worker or replace everything known about it."""
        with self._lock:
            if self._frame is None:
                self._frame = local_frame(member.lat, member.lon)
            x, y, z = to_frame(member.lat, member.lon, self._frame)
            cell = (math.floor(x / self._cell), math.floor(y / self._cell))
            old = self._slots.get(member.id)
            row = old.row if old is not None else self._columns.claim(member.id)
            slot = _Slot(x, y, z, member.id, member.available, member.department, member, cell, row)
            self._slots[member.id] = slot
            self._columns.put(slot)
            if old is None or old.cell != cell or old.member.skills != member.skills:
                # a move within its cell (the common one) is just replaced where it is below: updates hold
                # the lock and the GIL that queries wait for, so they are kept short
                self._unlink(old)
            for key in (ALL, *member.skills):
                grid = self._grids.get(key)
                if grid is None:
                    grid = self._grids[key] = _Grid()
                grid.add(slot)

    def upsert_many(self, members: Iterable[Member]) -> None:
        """Upsert several workers (each one atomically)."""
        for member in members:
            self.upsert(member)

    def remove(self, worker_id: int) -> None:
        """Forget a worker."""
        with self._lock:
            slot = self._slots.pop(worker_id, None)
            if slot is not None:
                self._unlink(slot)
                self._columns.drop(slot.row)

    def _unlink(self, slot: _Slot | None) -> None:
        if slot is None:
            return
        for key in (ALL, *slot.member.skills):
            grid = self._grids[key]
            grid.discard(slot)
            if key != ALL and not grid.cells:
                del self._grids[key]

    def nearest(
        self,
        lat: float,
        lon: float,
        k: int = 5,
        *,
        skill: str | None = None,
        department: int | None = None,
        available: bool | None = True,
        max_m: float | None = None,
    ) -> list[Hit]:
        """The k nearest workers matching every given filter, nearest first (ties by id).

        `available=True` keeps only available workers, `False` only unavailable ones, None both.
        """
        if k <= 0 or self._frame is None:
            return []
        qx, qy, qz = to_frame(lat, lon, self._frame)
        limit2 = arc_to_chord_m(max_m) ** 2 if max_m is not None else math.inf
        cell = self._cell
        cx, cy = math.floor(qx / cell), math.floor(qy / cell)
        # how far the query lies inside its own cell from each side: the searched square's margin adds it
        inset = min(qx - cx * cell, (cx + 1) * cell - qx, qy - cy * cell, (cy + 1) * cell - qy)
        best: list[tuple[float, int, Member]] = []  # the k nearest so far, as (d², id, member)
        with self._lock:
            grid = self._grids.get(skill if skill else ALL)
            cells = grid.cells if grid else {}
            get = cells.get
            r, seen = 1, 0  # the first step searches rings 0 and 1: a k ≥ 1 query rarely ends at ring 0
            while cells:
                everything = (2 * r + 1) ** 2 > 4 * len(cells)
                if everything:
                    # Rings have grown larger than the occupied cells: visit the rest directly.
                    buckets = [b for (kx, ky), b in cells.items() if max(abs(kx - cx), abs(ky - cy)) >= seen]
                else:
                    offsets = _FIRST if r == 1 else _RINGS[r] if r < len(_RINGS) else _ring_offsets(r)
                    buckets = [b for dx, dy in offsets if (b := get((cx + dx, cy + dy)))]
                best += [
                    ((x - qx) ** 2 + (y - qy) ** 2 + (z - qz) ** 2, i, m)
                    for bucket in buckets
                    for x, y, z, i, av, dep, m, _, _ in bucket.values()
                    if (available is None or av is available) and (department is None or dep == department)
                ]
                best.sort()  # a few dozen tuples: one C sort beats heapq.nsmallest's Python
                del best[k:]
                if everything:
                    break  # every occupied cell has been seen
                # every point closer than the searched square's margin has been seen (|Δeast|, |Δnorth| ≤ chord)
                reach2 = (r * cell + inset) ** 2
                if limit2 <= reach2 or (len(best) == k and best[-1][0] <= reach2):
                    break
                seen = r = r + 1
        return [Hit(m, chord_to_arc_m(math.sqrt(d2))) for d2, _, m in best if d2 <= limit2]

    def within(self, lat: float, lon: float, radius_m: float, *, available: bool | None = None) -> list[Hit]:
        """Every worker within `radius_m` (and of the given availability), nearest first (ties by id).

        For ring queries (an incident's 3 km ring holds thousands of workers): the lock is held only to copy
        the columns of every worker's coordinates, and again to read the members of the rows the scan kept;
        the vectorised scan and ordering run between the two. Distances are those of the copy; a worker
        updated in between is listed with its current record, one that left in between is not listed.
        """
        if self._frame is None or not radius_m >= 0:
            return []
        qx, qy, qz = to_frame(lat, lon, self._frame)
        chord = arc_to_chord_m(radius_m)
        with self._lock:
            xs, ys, zs, availability, ids, drops = self._columns.snapshot()
        d2 = np.square(np.frombuffer(xs) - qx)
        d2 += np.square(np.frombuffer(ys) - qy)
        d2 += np.square(np.frombuffer(zs) - qz)
        keep = d2 <= chord * chord  # NaN (a free row) is never within
        if available is not None:
            keep &= np.frombuffer(availability, dtype=bool) == available
        rows = np.flatnonzero(keep)
        d2, ids = d2[rows], np.frombuffer(ids, dtype=np.int64)[rows]
        order = np.lexsort((ids, d2))
        arcs = (2 * EARTH_RADIUS_M * np.arcsin(np.minimum(1.0, np.sqrt(d2[order]) / (2 * EARTH_RADIUS_M)))).tolist()
        with self._lock:
            members = self._columns.pick(rows[order].tolist())
            reused = self._columns.drops != drops
        pairs = zip(members, arcs, strict=True)
        if reused:  # a worker left after the copy: its row may be empty or hold a newcomer the scan never saw
            ordered_ids = ids[order].tolist()
            pairs = [(m, arc) for (m, arc), i in zip(pairs, ordered_ids, strict=True) if m is not None and m.id == i]
        # tuple.__new__ through map: Hit's own __new__ costs a Python call per hit, a comprehension a loop turn
        return list(map(tuple.__new__, repeat(Hit), pairs))
