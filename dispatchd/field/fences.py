"""Which fences watch which worker: the worker's own grid cell, plus the operators' active geofences."""

from __future__ import annotations

import threading

from django.db.models.signals import m2m_changed, post_delete, post_save

from dispatchd.field.config import setting
from dispatchd.geo.geofence import FenceRules, FenceShape

OWN_GRID = "grid:"


class FenceBook:
    """A cached snapshot of fence shapes and rules, rebuilt after any change to cells or geofences."""

    def __init__(self) -> None:
        from dispatchd.models import Geofence, GridCell

        self._grids = {c.id: c.polygon for c in GridCell.objects.all()}
        self._shapes: dict[str, FenceShape] = {}
        self._shared: list[str] = []  # operator fences that watch everyone
        self._personal: dict[int, list[str]] = {}
        self._alarm_after: dict[str, float | None] = {}
        for fence in Geofence.objects.filter(active=True).prefetch_related("workers"):
            fence_id = f"fence:{fence.id}"
            self._shapes[fence_id] = FenceShape(fence_id, fence.polygon, fence.name)
            self._alarm_after[fence_id] = fence.alarm_after_min * 60 if fence.alarm_after_min else None
            ids = [w.id for w in fence.workers.all()]
            if not ids:
                self._shared.append(fence_id)
            for worker_id in ids:
                self._personal.setdefault(worker_id, []).append(fence_id)
        self._lock = threading.Lock()

    def _grid_shape(self, grid_id: int) -> FenceShape | None:
        fence_id = f"{OWN_GRID}{grid_id}"
        with self._lock:
            if fence_id not in self._shapes and grid_id in self._grids:
                self._shapes[fence_id] = FenceShape(fence_id, self._grids[grid_id], f"grid {grid_id}")
            return self._shapes.get(fence_id)

    def fences_for(self, worker_id: int, grid_id: int | None) -> list[tuple[FenceShape, FenceRules]]:
        """The fences watching a worker, each with the rules it is judged by."""
        base = FenceRules(
            margin_m=setting("WALL_GEOFENCE_MARGIN_M"),
            exit_dwell_s=setting("WALL_GEOFENCE_EXIT_DWELL_S"),
            enter_dwell_s=setting("WALL_GEOFENCE_ENTER_DWELL_S"),
            alarm_after_s=setting("WALL_GEOFENCE_ALARM_AFTER_S"),
        )
        out = []
        if grid_id is not None and (own := self._grid_shape(grid_id)) is not None:
            out.append((own, base))
        for fence_id in self._shared + self._personal.get(worker_id, []):
            rules = FenceRules(base.margin_m, base.exit_dwell_s, base.enter_dwell_s, self._alarm_after[fence_id])
            out.append((self._shapes[fence_id], rules))
        return out


_book: FenceBook | None = None
_book_lock = threading.Lock()


def fence_book() -> FenceBook:
    """The current fence snapshot, built on first use."""
    global _book
    with _book_lock:
        if _book is None:
            _book = FenceBook()
        return _book


def invalidate(**_kwargs) -> None:
    """Forget the snapshot; the next use rebuilds it."""
    global _book
    with _book_lock:
        _book = None


def connect_signals() -> None:
    """Rebuild the snapshot whenever a grid cell or a geofence changes."""
    from dispatchd.models import Geofence, GridCell

    for model in (GridCell, Geofence):
        post_save.connect(invalidate, sender=model, dispatch_uid=f"fencebook-save-{model.__name__}")
        post_delete.connect(invalidate, sender=model, dispatch_uid=f"fencebook-delete-{model.__name__}")
    m2m_changed.connect(invalidate, sender=Geofence.workers.through, dispatch_uid="fencebook-m2m")
