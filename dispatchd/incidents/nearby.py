"""What lies inside an incident's rings: workers (live store), cameras, sensors, emergency resources."""

from __future__ import annotations

from typing import Any

from dispatchd.field.live import live_store
from dispatchd.field.state import LiveState
from dispatchd.geo.distance import bbox_around, haversine_m
from dispatchd.models import Camera, Incident, Resource, Sensor, Worker


def ring_of(incident: Incident, distance_m: float) -> int | None:
    """The smallest ring (its radius) that holds a point this far from the centre; None outside them all."""
    return next((ring for ring in incident.rings_m if distance_m <= ring), None)


def workers_within(incident: Incident, radius_m: float) -> list[tuple[LiveState, float]]:
    """Every positioned worker within `radius_m` of the centre right now, nearest first, with the distance."""
    return live_store().within(incident.lat, incident.lon, radius_m)


def _places(model, incident: Incident, fields: tuple[str, ...]) -> list[dict[str, Any]]:
    """Rows of `model` inside the outer ring, by distance, with their ring."""
    outer = incident.rings_m[-1]
    min_lat, min_lon, max_lat, max_lon = bbox_around(incident.lat, incident.lon, outer)
    rows = model.objects.filter(lat__gte=min_lat, lat__lte=max_lat, lon__gte=min_lon, lon__lte=max_lon)
    found = []
    for row in rows.values("id", "lat", "lon", *fields):
        distance = haversine_m(incident.lat, incident.lon, row["lat"], row["lon"])
        if distance <= outer:
            found.append({**row, "distance_m": round(distance, 1), "ring_m": ring_of(incident, distance)})
    return sorted(found, key=lambda r: (r["distance_m"], r["id"]))


def nearby(incident: Incident) -> dict[str, list[dict[str, Any]]]:
    """Workers, cameras, sensors and resources inside the outer ring, nearest first, each with its ring."""
    hits = workers_within(incident, incident.rings_m[-1])
    names = {pk: (code, name) for pk, code, name in Worker.objects.filter(
        pk__in=[s.worker_id for s, _ in hits]).values_list("pk", "code", "name")}
    workers = [
        {"worker_id": s.worker_id, "code": code, "name": name, "lat": s.lat, "lon": s.lon, "status": s.status,
         "skills": sorted(s.skills), "distance_m": round(d, 1), "ring_m": ring_of(incident, d)}
        for s, d in hits
        for code, name in [names.get(s.worker_id, ("", ""))]
    ]
    return {
        "workers": workers,
        "cameras": _places(Camera, incident, ("name", "online", "gb_id")),
        "sensors": _places(Sensor, incident, ("name", "type", "online", "last_value")),
        "resources": _places(Resource, incident, ("kind", "name", "quantity", "notes")),
    }
