"""The live spatial index of field workers: k nearest with filters, exact, safe under concurrent updates.

Points live on the sphere, expressed in metres in a tangent frame at a reference point (east, north, up).
Neighbours are ranked by the straight-line (chord) distance between those 3-D points, which orders them
exactly as the great-circle distance does. Buckets are a uniform grid of square cells over (east, north);
since |Δeast| and |Δnorth| never exceed the chord, after searching every cell within Chebyshev ring r of the
query's cell, every point closer than r · cell is known, which is what makes the ring search exact; for the
same reason a cell whose east/north gap from the query exceeds the k-th distance found so far cannot improve
on it and is skipped. One grid holds every worker, and one per skill holds the workers that have it, so a
skill filter only visits matching workers. Radius queries (a war room's rings, with thousands of workers
inside) instead scan numpy columns of every worker's coordinates: a few vectorised passes cost less than
visiting each worker in Python. A lock makes every update and query atomic: a query sees each worker either at
its old or at its new place, never twice or not at all.
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


# A worker's place in the index, shared by every grid that holds it: [x, y, z, id, available, department,
# member, cell, row] (row: its row in the radius-scan columns). A list, so that a move within its cell (the
# common update) changes it in place, touching no grid; a query unpacks a bucket's slots in one comprehension.
_Slot = list
X, ID, MEMBER, CELL, ROW = 0, 3, 6, 7, 8


class Hit(NamedTuple):
    """One answer of a nearest query (a tuple: thousands are built per ring query)."""

    member: Member
    distance_m: float


@dataclass
class _Grid:
    cells: dict[tuple[int, int], dict[int, _Slot]] = field(default_factory=dict)

    def add(self, slot: _Slot) -> None:
        self.cells.setdefault(slot[CELL], {})[slot[ID]] = slot

    def discard(self, slot: _Slot) -> None:
        bucket = self.cells.get(slot[CELL])
        if bucket is not None:
            bucket.pop(slot[ID], None)
            if not bucket:
                del self.cells[slot[CELL]]


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
        x, y, z, _, available, _, member, _, row = slot
        self.x[row], self.y[row], self.z[row] = x, y, z
        self.available[row] = available
        self.members[row] = member

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

    def copy_into(self, scratch: _Scratch) -> tuple[int, int]:
        """Copy the coordinate, id and availability columns into `scratch` (caller holds the lock); (rows, drops).

        Plain memory copies into buffers kept from one scan to the next: an update waits for the copy, never
        for a numpy pass (numpy releases the GIL during its passes, and a lock held across one makes every
        waiting thread queue for the GIL), and no scan maps and unmaps fresh megabytes. The members list
        is not copied (100,000 references took longer than all the columns together): `pick` reads only
        the rows a scan kept.
        """
        n = len(self.ids)
        scratch.fit(n)
        for column, into in ((self.x, scratch.x), (self.y, scratch.y), (self.z, scratch.z)):
            into[:n] = np.frombuffer(column)  # the view is gone before the lock is released, so the array may grow
        scratch.ids[:n] = np.frombuffer(self.ids, dtype=np.int64)
        scratch.available[:n] = np.frombuffer(self.available, dtype=bool)
        return n, self.drops

    def pick(self, rows: list[int]) -> list[Member | None]:
        """The members now in `rows` (C-speed item reads: the caller holds the lock)."""
        return list(map(self.members.__getitem__, rows))


class _Scratch:
    """The buffers of a radius scan, kept between scans: copies of the columns and the passes' results."""

    def __init__(self) -> None:
        self._allocate(0)

    def fit(self, n: int) -> None:
        """Make every buffer hold at least `n` rows."""
        if n > len(self.ids):
            self._allocate(n)

    def _allocate(self, n: int) -> None:
        self.x, self.y, self.z, self.d2, self.t = (np.empty(n) for _ in range(5))
        self.ids = np.empty(n, dtype=np.int64)
        self.available = np.empty(n, dtype=bool)
        self.keep, self.match = np.empty(n, dtype=bool), np.empty(n, dtype=bool)


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
        self._scratch = _Scratch()
        self._scan_lock = threading.Lock()  # one radius scan at a time uses the scratch buffers

    def __len__(self) -> int:
        return len(self._slots)

    def get(self, worker_id: int) -> Member | None:
        """The indexed state of a worker, if present."""
        slot = self._slots.get(worker_id)
        return slot[MEMBER] if slot else None

    def upsert(self, member: Member) -> None:
        """Insert a worker or replace everything known about it."""
        with self._lock:
            if self._frame is None:
                self._frame = local_frame(member.lat, member.lon)
            x, y, z = to_frame(member.lat, member.lon, self._frame)
            cell = (math.floor(x / self._cell), math.floor(y / self._cell))
            place = (x, y, z, member.id, member.available, member.department, member)  # the slot up to CELL
            slot = self._slots.get(member.id)
            if slot is not None and slot[CELL] == cell and slot[MEMBER].skills == member.skills:
                # a move within its cell (the common one): updates hold the lock and the GIL that queries wait
                # for, so they are kept short
                slot[X:CELL] = place
                self._columns.put(slot)
                return
            self._unlink(slot)
            row = slot[ROW] if slot is not None else self._columns.claim(member.id)
            slot = self._slots[member.id] = [*place, cell, row]
            self._columns.put(slot)
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
                self._columns.drop(slot[ROW])

    def _unlink(self, slot: _Slot | None) -> None:
        if slot is None:
            return
        for key in (ALL, *slot[MEMBER].skills):
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
        fx, fy = qx - cx * cell, qy - cy * cell  # where the query lies inside its own cell
        # how far the query lies inside its own cell from each side: the searched square's margin adds it
        inset = min(fx, cell - fx, fy, cell - fy)
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
                    if len(best) == k:
                        # Only the cells that may hold a point as near as the k-th so far: a cell's east and north
                        # gaps from the query bound its points' chord from below. Most of a ring's cells are out.
                        bound = best[-1][0]
                        offsets = [
                            (dx, dy) for dx, dy in offsets
                            if (dx * cell - fx if dx > 0 else fx - (dx + 1) * cell if dx < 0 else 0.0) ** 2
                            + (dy * cell - fy if dy > 0 else fy - (dy + 1) * cell if dy < 0 else 0.0) ** 2 <= bound
                        ]
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
        reach2 = arc_to_chord_m(radius_m) ** 2
        with self._scan_lock:
            scratch = self._scratch
            with self._lock:
                n, drops = self._columns.copy_into(scratch)
            # In place, in the kept buffers: east and north first (the chord is at least their distance),
            # then the up component only for the rows still in (a few % of them).
            d2, t, keep = scratch.d2[:n], scratch.t[:n], scratch.keep[:n]
            np.subtract(scratch.x[:n], qx, out=d2)
            np.multiply(d2, d2, out=d2)
            np.subtract(scratch.y[:n], qy, out=t)
            np.multiply(t, t, out=t)
            d2 += t
            np.less_equal(d2, reach2, out=keep)  # NaN (a free row) is never within
            if available is not None:
                keep &= np.equal(scratch.available[:n], available, out=scratch.match[:n])
            rows = np.flatnonzero(keep)
            d2 = d2[rows] + np.square(scratch.z[rows] - qz)
            ids = scratch.ids[rows]
        inside = d2 <= reach2
        rows, d2, ids = rows[inside], d2[inside], ids[inside]
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
