"""Duplicate suggestion: an open case of the same category close by in space and time."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings

from dispatchd.geo.distance import bbox_around, haversine_m
from dispatchd.models import Case, CaseStatus

CLOSED_STATUSES = (CaseStatus.VOIDED, CaseStatus.MERGED, CaseStatus.CLOSED, CaseStatus.EVALUATED)


def find_duplicates(category_id: int, lat: float, lon: float, at: datetime, exclude_id: int | None = None):
    """Open cases of the category within the configured radius and window, nearest first."""
    radius = settings.WALL_DUPLICATE_RADIUS_M
    min_lat, min_lon, max_lat, max_lon = bbox_around(lat, lon, radius)
    since = at - timedelta(hours=settings.WALL_DUPLICATE_WINDOW_H)
    candidates = (
        Case.objects.filter(
            category_id=category_id,
            created_at__gte=since,
            created_at__lte=at,
            lat__range=(min_lat, max_lat),
            lon__range=(min_lon, max_lon),
        )
        .exclude(status__in=CLOSED_STATUSES)
        .exclude(pk=exclude_id)
        .only("id", "number", "lat", "lon")
    )
    found = []
    for case in candidates:
        distance = haversine_m(lat, lon, case.lat, case.lon)
        if distance <= radius:
            found.append({"id": case.id, "number": case.number, "distance_m": round(distance, 1)})
    return sorted(found, key=lambda d: d["distance_m"])
