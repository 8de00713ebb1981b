"""Which grid cell holds a point: an STRtree over the cell polygons, rebuilt when cells change."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import shapely
from django.db.models.signals import post_delete, post_save
from shapely.geometry import Point, shape
from shapely.strtree import STRtree


@dataclass(frozen=True)
class Placement:
    """Where a point lies in the hierarchy (all None when outside every cell)."""

    grid_id: int | None
    community_id: int | None
    street_id: int | None


OUTSIDE = Placement(None, None, None)


class GridIndex:
    """An immutable spatial index over a snapshot of the grid cells."""

    def __init__(self, cells: list[tuple[int, int, int, dict]]) -> None:
        self._ids = [(cell_id, community_id, street_id) for cell_id, community_id, street_id, _ in cells]
        self._by_cell = {ids[0]: Placement(*ids) for ids in self._ids}
        self._polygons = [shape(geometry) for *_, geometry in cells]
        for polygon in self._polygons:
            shapely.prepare(polygon)
        self._tree = STRtree(self._polygons) if self._polygons else None

    def locate(self, lat: float, lon: float) -> Placement:
        """The cell containing (lat, lon); boundary points go to the lowest-id cell that covers them."""
        if self._tree is None:
            return OUTSIDE
        point = Point(lon, lat)
        hits = self._tree.query(point, predicate="intersects")
        if len(hits) == 0:
            return OUTSIDE
        best = min(int(i) for i in hits)
        return Placement(*self._ids[best])

    def placement_of(self, grid_id: int | None) -> Placement:
        """Where a cell lies in the hierarchy (OUTSIDE for an unknown cell)."""
        return self._by_cell.get(grid_id, OUTSIDE) if grid_id is not None else OUTSIDE


_lock = threading.Lock()
_index: GridIndex | None = None


def _load() -> GridIndex:
    from dispatchd.models import GridCell

    rows = GridCell.objects.select_related("community").order_by("id")
    return GridIndex([(c.id, c.community_id, c.community.street_id, c.polygon) for c in rows])


def grid_index() -> GridIndex:
    """The current index, built on first use."""
    global _index
    with _lock:
        if _index is None:
            _index = _load()
        return _index


def invalidate(**_kwargs) -> None:
    """Forget the index so that the next lookup rebuilds it."""
    global _index
    with _lock:
        _index = None


def locate(lat: float, lon: float) -> Placement:
    """Place a point in its grid cell (or OUTSIDE)."""
    return grid_index().locate(lat, lon)


def connect_signals() -> None:
    """Rebuild the index whenever a cell is saved or deleted."""
    from dispatchd.models import GridCell

    post_save.connect(invalidate, sender=GridCell, dispatch_uid="gridindex-save")
    post_delete.connect(invalidate, sender=GridCell, dispatch_uid="gridindex-delete")
