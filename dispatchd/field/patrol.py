"""Patrol statistics (巡查工作时长) per worker per day: time on duty, distance, time inside the own grid."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.utils import timezone
from shapely.geometry import Point, shape

from dispatchd.field.config import setting
from dispatchd.geo.distance import haversine_m


@dataclass(frozen=True)
class PatrolDay:
    """One worker's patrol figures for one day."""

    worker_id: int
    day: str
    fixes: int
    on_duty_s: float
    distance_m: float
    in_grid_s: float

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view."""
        return asdict(self)


def patrol_figures(
    points: Sequence[tuple[datetime, float, float, float | None]],
    grid: dict | None,
    gap_s: float,
    max_accuracy_m: float,
    max_speed_mps: float,
) -> tuple[float, float, float]:
    """(on-duty seconds, metres, seconds inside `grid`) of time-ordered (at, lat, lon, accuracy) points.

    Fixes less accurate than `max_accuracy_m` are ignored. The time between two consecutive fixes
    counts when they are at most `gap_s` apart (longer means the worker was silent), and counts as
    inside the grid when both ends are; its leg counts as distance unless faster than `max_speed_mps`.
    """
    area = shape(grid) if grid else None
    on_duty = distance = in_grid = 0.0
    previous: tuple[datetime, float, float, bool] | None = None
    for at, lat, lon, accuracy in points:
        if accuracy is not None and accuracy > max_accuracy_m:
            continue
        inside = bool(area is not None and area.covers(Point(lon, lat)))
        if previous is not None:
            dt = (at - previous[0]).total_seconds()
            if 0 < dt <= gap_s:
                on_duty += dt
                in_grid += dt if inside and previous[3] else 0.0
                leg = haversine_m(previous[1], previous[2], lat, lon)
                distance += leg if leg <= max_speed_mps * dt else 0.0
        previous = (at, lat, lon, inside)
    return on_duty, distance, in_grid


def patrol_day(worker_id: int, day: date) -> PatrolDay:
    """The patrol figures of a worker on a local calendar day, from its stored trail."""
    from dispatchd.models import PositionFix, Worker

    worker = Worker.objects.select_related("grid").get(pk=worker_id)
    start = timezone.make_aware(datetime.combine(day, time.min))
    end = start + timedelta(days=1)
    rows = list(
        PositionFix.objects.filter(worker_id=worker_id, at__gte=start, at__lt=end)
        .order_by("at")
        .values_list("at", "lat", "lon", "accuracy_m")
    )
    on_duty, distance, in_grid = patrol_figures(
        rows,
        worker.grid.polygon if worker.grid else None,
        gap_s=setting("WALL_FIELD_OFFLINE_AFTER_S"),
        max_accuracy_m=setting("WALL_FIELD_MAX_ACCURACY_M"),
        max_speed_mps=setting("WALL_FIELD_MAX_SPEED_MPS"),
    )
    return PatrolDay(worker_id, day.isoformat(), len(rows), round(on_duty, 1), round(distance, 1), round(in_grid, 1))
