"""The live spatial index of field workers: k nearest with filters, exact, safe under concurrent updates.

Points live on the sphere, expressed in metres in a tangent frame at a reference point (east, north,
up). Neighbours are ranked by the straight-line (chord) distance between those 3-D points, which
orders them exactly as the great-circle distance does. Buckets are a uniform grid of square cells
over (east, north); since |Δeast| and |Δnorth| never exceed the chord, after searching every cell
within Chebyshev ring r of the query's cell, every point closer than r · cell is known, which
is what makes the ring search exact. One grid holds every worker, and one per skill holds the workers
that have it, so a skill filter only visits matching workers. A lock makes every update and query
atomic: a query sees each worker either at its old or at its new place, never twice or not at all.
"""

from __future__ import annotations

import heapq
import math
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from operator import attrgetter
from typing import NamedTuple

import numpy as np

from dispatchd.geo.distance import EARTH_RADIUS_M, arc_to_chord_m, chord_to_arc_m, local_frame, to_frame

ALL = ""  # key of the grid that holds every worker
_XYZ = attrgetter("x", "y", "z")


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


class NearestIndex:
    """k-nearest-worker index with skill, department and availability filters."""

    def __init__(self, origin: tuple[float, float] | None = None, cell_m: float = 250.0) -> None:
        """`origin` (lat, lon) is where cells are least distorted; by default the first worker's place."""
        self._frame = local_frame(*origin) if origin else None
        self._cell = float(cell_m)
        self._grids: dict[str, _Grid] = {ALL: _Grid()}
        self._slots: dict[int, _Slot] = {}
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
            slot = _Slot(x, y, z, member.id, member.available, member.department, member, cell)
            old = self._slots.get(member.id)
            self._slots[member.id] = slot
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
            self._unlink(self._slots.pop(worker_id, None))

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
                    for x, y, z, i, av, dep, m, _ in bucket.values()
                    if (available is None or av is available) and (department is None or dep == department)
                ]
                if len(best) > k:
                    best = heapq.nsmallest(k, best)
                if everything:
                    break  # every occupied cell has been seen
                # every point closer than the searched square's margin has been seen (|Δeast|, |Δnorth| ≤ chord)
                reach2 = (r * cell + inset) ** 2
                if limit2 <= reach2 or (len(best) == k and max(best)[0] <= reach2):
                    break
                seen = r = r + 1
        found = sorted(hit for hit in best if hit[0] <= limit2)
        return [Hit(m, chord_to_arc_m(math.sqrt(d2))) for d2, _, m in found]

    def within(self, lat: float, lon: float, radius_m: float, *, available: bool | None = None) -> list[Hit]:
        """Every worker within `radius_m` (and of the given availability), nearest first (ties by id).

        For ring queries (an incident's 3 km ring holds thousands of workers): the lock is held only to
        gather the candidate slots, so k-nearest queries and updates wait microseconds, not the whole scan.
        """
        if self._frame is None or not radius_m >= 0:
            return []
        qx, qy, qz = to_frame(lat, lon, self._frame)
        chord = arc_to_chord_m(radius_m)
        limit2 = chord * chord
        cell = self._cell
        # |Δeast|, |Δnorth| ≤ chord: the square of cells around the query holds every answer
        x0, x1 = math.floor((qx - chord) / cell), math.floor((qx + chord) / cell)
        y0, y1 = math.floor((qy - chord) / cell), math.floor((qy + chord) / cell)
        slots: list[_Slot] = []
        with self._lock:
            cells = self._grids[ALL].cells
            if (x1 - x0 + 1) * (y1 - y0 + 1) > len(cells):
                keys = [(kx, ky) for kx, ky in cells if x0 <= kx <= x1 and y0 <= ky <= y1]
            else:
                keys = [(kx, ky) for kx in range(x0, x1 + 1) for ky in range(y0, y1 + 1)]
            for key in keys:
                bucket = cells.get(key)
                if bucket:
                    slots.extend(bucket.values())
        if not slots:
            return []
        # slots are replaced on update, never changed: reading them outside the lock is safe. The distances
        # are computed in numpy: thousands of hits in a few milliseconds, so other threads barely wait.
        xyz = np.array(list(map(_XYZ, slots)), dtype=float)
        d2 = np.square(xyz - (qx, qy, qz)).sum(axis=1)
        keep = d2 <= limit2
        if available is not None:
            keep &= np.fromiter((slot.available is available for slot in slots), bool, len(slots))
        rows = np.flatnonzero(keep)
        ids = np.fromiter((slots[i].id for i in rows), np.int64, len(rows))
        order = rows[np.lexsort((ids, d2[rows]))]
        arcs = 2 * EARTH_RADIUS_M * np.arcsin(np.minimum(1.0, np.sqrt(d2[order]) / (2 * EARTH_RADIUS_M)))
        return [Hit(slots[i].member, arc) for i, arc in zip(order.tolist(), arcs.tolist(), strict=True)]

