"""Great-circle distance and bounding boxes on the WGS-84 sphere approximation."""

from __future__ import annotations

import math

EARTH_RADIUS_M = 6_371_008.8


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Distance in metres between two lat/lon points."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def bbox_around(lat: float, lon: float, radius_m: float) -> tuple[float, float, float, float]:
    """(min_lat, min_lon, max_lat, max_lon) of a box that contains the circle of `radius_m`."""
    dlat = math.degrees(radius_m / EARTH_RADIUS_M)
    dlon = dlat / max(0.01, math.cos(math.radians(lat)))
    return lat - dlat, lon - dlon, lat + dlat, lon + dlon


def valid_point(lat: float, lon: float) -> bool:
    """Whether lat/lon are finite and in range."""
    return math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90 and -180 <= lon <= 180


def local_frame(lat0: float, lon0: float) -> tuple[tuple[float, float, float], ...]:
    """East, north and up unit vectors of the tangent plane at (lat0, lon0), in Earth-centred coordinates."""
    p, lam = math.radians(lat0), math.radians(lon0)
    east = (-math.sin(lam), math.cos(lam), 0.0)
    north = (-math.sin(p) * math.cos(lam), -math.sin(p) * math.sin(lam), math.cos(p))
    up = (math.cos(p) * math.cos(lam), math.cos(p) * math.sin(lam), math.sin(p))
    return east, north, up


def to_frame(lat: float, lon: float, frame: tuple[tuple[float, float, float], ...]) -> tuple[float, float, float]:
    """A point on the sphere in metres along the axes of `frame` (see local_frame).

    The straight-line (chord) distance between two such points grows monotonically with their
    great-circle distance, so it ranks neighbours exactly as haversine_m does.
    """
    p, lam = math.radians(lat), math.radians(lon)
    cp = math.cos(p)
    vx, vy, vz = EARTH_RADIUS_M * cp * math.cos(lam), EARTH_RADIUS_M * cp * math.sin(lam), EARTH_RADIUS_M * math.sin(p)
    (ex, ey, ez), (nx, ny, nz), (ux, uy, uz) = frame
    return ex * vx + ey * vy + ez * vz, nx * vx + ny * vy + nz * vz, ux * vx + uy * vy + uz * vz


def chord_to_arc_m(chord_m: float) -> float:
    """Great-circle distance for a chord length (both in metres)."""
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, chord_m / (2 * EARTH_RADIUS_M)))


def arc_to_chord_m(arc_m: float) -> float:
    """Chord length for a great-circle distance (both in metres)."""
    return 2 * EARTH_RADIUS_M * math.sin(min(math.pi / 2, arc_m / (2 * EARTH_RADIUS_M)))
