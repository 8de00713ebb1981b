"""Plane geometry for the invented district: outline, Voronoi grid cells, region growing, sampling.

Work happens in a local metric plane (metres east/north of a reference point, equirectangular),
so that cells get realistic shapes; `to_lonlat` brings results back to WGS-84 lon/lat.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Sequence

import numpy as np
import shapely
from shapely.geometry import LineString, MultiPoint, Point, Polygon
from shapely.geometry.base import BaseGeometry
from shapely.strtree import STRtree

M_PER_DEG_LAT = 110_574.0
PRECISION_DEG = 1e-6


class Plane:
    """An equirectangular projection around (lon0, lat0): good to centimetres over a district."""

    def __init__(self, lon0: float, lat0: float) -> None:
        self.lon0, self.lat0 = lon0, lat0
        self.m_per_deg_lon = 111_320.0 * math.cos(math.radians(lat0))

    def to_lonlat(self, geom: BaseGeometry) -> BaseGeometry:
        """The geometry in lon/lat, snapped to a 1e-6° grid (valid output guaranteed by GEOS)."""
        moved = shapely.transform(
            geom, lambda xy: np.column_stack([self.lon0 + xy[:, 0] / self.m_per_deg_lon,
                                              self.lat0 + xy[:, 1] / M_PER_DEG_LAT])
        )
        return shapely.set_precision(moved, PRECISION_DEG)

    def lonlat(self, x: float, y: float) -> tuple[float, float]:
        """(lon, lat) of a plane point, rounded to 6 decimals."""
        return round(self.lon0 + x / self.m_per_deg_lon, 6), round(self.lat0 + y / M_PER_DEG_LAT, 6)

    def from_lonlat(self, lon: float, lat: float) -> tuple[float, float]:
        """Plane (x, y) in metres of a lon/lat point."""
        return (lon - self.lon0) * self.m_per_deg_lon, (lat - self.lat0) * M_PER_DEG_LAT


def blob(rng: np.random.Generator, half_w: float, half_h: float, vertices: int = 96) -> Polygon:
    """An irregular, star-shaped outline that fills most of a half_w × half_h (metres) box around 0,0."""
    theta = np.linspace(0, 2 * math.pi, vertices, endpoint=False)
    radius = np.ones_like(theta)
    for k in range(2, 8):
        radius += rng.uniform(0.02, 0.09) / math.sqrt(k - 1) * np.cos(k * theta + rng.uniform(0, 2 * math.pi))
    radius += rng.normal(0, 0.008, size=theta.size)  # a slightly ragged boundary, like a real one
    x, y = radius * np.cos(theta), radius * np.sin(theta)
    x *= half_w / np.abs(x).max()
    y *= half_h / np.abs(y).max()
    return Polygon(np.column_stack([x, y]))


def density_points(
    rng: np.random.Generator, area: Polygon, count: int, centres: Sequence[tuple[float, float, float]]
) -> np.ndarray:
    """`count` points in `area`, denser around `centres` (x, y, sigma in metres): towns and villages."""
    minx, miny, maxx, maxy = area.bounds
    shapely.prepare(area)
    points: list[tuple[float, float]] = []
    while len(points) < count:
        batch = rng.uniform((minx, miny), (maxx, maxy), size=(4 * count, 2))
        dens = 0.25 + sum(np.exp(-((batch[:, 0] - cx) ** 2 + (batch[:, 1] - cy) ** 2) / (2 * s * s))
                          for cx, cy, s in centres)
        keep = rng.uniform(0, 1.25, size=len(batch)) < dens
        inside = shapely.contains_xy(area, batch[:, 0], batch[:, 1])
        points.extend(map(tuple, batch[keep & inside]))
    return np.array(points[:count])


def voronoi_cells(points: np.ndarray, area: Polygon) -> list[Polygon]:
    """Voronoi cells of `points` clipped to `area`, one single polygon per point, in input order."""
    raw = shapely.voronoi_polygons(MultiPoint(points), extend_to=area.buffer(1000), ordered=True)
    clipped = [cell.intersection(area) for cell in raw.geoms]
    return _single_parts(clipped, points)


def _single_parts(cells: list[BaseGeometry], points: np.ndarray) -> list[Polygon]:
    """Give each cell's stray parts (cut off by a concave boundary) to the neighbour they touch most."""
    cells = list(cells)
    strays: list[Polygon] = []
    for i, cell in enumerate(cells):
        if cell.geom_type == "Polygon":
            continue
        parts = sorted((p for p in getattr(cell, "geoms", []) if p.geom_type == "Polygon"),
                       key=lambda p: (not p.covers(Point(points[i])), -p.area))
        cells[i] = parts[0]
        strays.extend(parts[1:])
    for stray in strays:
        best = max(range(len(cells)), key=lambda j: cells[j].boundary.intersection(stray.boundary).length)
        cells[best] = cells[best].union(stray)
    return cells


def lloyd(points: np.ndarray, area: Polygon, rounds: int) -> np.ndarray:
    """Move each point towards its cell's centre (Lloyd relaxation) for more even cells."""
    for _ in range(rounds):
        cells = voronoi_cells(points, area)
        points = np.array([inner_centre(cell) for cell in cells])
    return points


def inner_centre(cell: Polygon) -> tuple[float, float]:
    """The centroid, or a point surely inside when the centroid falls outside."""
    centre = cell.centroid
    if not cell.contains(centre):
        centre = cell.point_on_surface()
    return centre.x, centre.y


def adjacency(cells: list[Polygon], min_shared_m: float = 1.0) -> list[set[int]]:
    """For each cell, the cells sharing at least `min_shared_m` of border with it."""
    tree = STRtree(cells)
    left, right = tree.query(cells, predicate="intersects")
    neighbours: list[set[int]] = [set() for _ in cells]
    for i, j in zip(left.tolist(), right.tolist(), strict=True):
        if i < j and cells[i].boundary.intersection(cells[j].boundary).length >= min_shared_m:
            neighbours[i].add(j)
            neighbours[j].add(i)
    return neighbours


def grow_regions(
    members: list[int],
    centres: np.ndarray,
    neighbours: list[set[int]],
    weights: Sequence[float],
    rng: np.random.Generator,
) -> dict[int, int]:
    """Split connected `members` into len(weights) contiguous, compact regions sized by weight.

    Seeds are spread by farthest-point sampling; then the region furthest below its target size
    takes the frontier cell nearest its seed, until every member has a region.
    """
    pool = set(members)
    total = float(sum(weights))
    targets = [w / total * len(members) for w in weights]
    seeds = [members[int(rng.integers(len(members)))]]
    while len(seeds) < len(weights):
        dist = [min(np.hypot(*(centres[m] - centres[s])) for s in seeds) for m in members]
        seeds.append(members[int(np.argmax(dist))])
    region: dict[int, int] = {}
    sizes = [0] * len(weights)
    frontiers: list[list[tuple[float, int]]] = [[] for _ in weights]

    def take(r: int, cell: int) -> None:
        region[cell] = r
        sizes[r] += 1
        for n in neighbours[cell]:
            if n in pool and n not in region:
                heapq.heappush(frontiers[r], (float(np.hypot(*(centres[n] - centres[seeds[r]]))), n))

    for r, seed in enumerate(seeds):
        take(r, seed)
    while len(region) < len(members):
        for r in sorted(range(len(weights)), key=lambda r: sizes[r] / targets[r]):
            while frontiers[r] and frontiers[r][0][1] in region:
                heapq.heappop(frontiers[r])
            if frontiers[r]:
                take(r, heapq.heappop(frontiers[r])[1])
                break
        else:
            raise ValueError("members are not connected")
    return region


def point_in(rng: np.random.Generator, polygon: Polygon) -> tuple[float, float]:
    """A uniformly random (x, y) inside `polygon`."""
    minx, miny, maxx, maxy = polygon.bounds
    for _ in range(10_000):
        x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        if polygon.contains(Point(x, y)):
            return float(x), float(y)
    centre = polygon.point_on_surface()
    return centre.x, centre.y


def wavy_line(rng: np.random.Generator, start: tuple[float, float], end: tuple[float, float],
              wiggle_m: float, knots: int = 6) -> LineString:
    """A smooth line from `start` to `end` that wanders sideways by about `wiggle_m`."""
    (x0, y0), (x1, y1) = start, end
    length = math.hypot(x1 - x0, y1 - y0)
    nx, ny = -(y1 - y0) / length, (x1 - x0) / length
    t = np.linspace(0, 1, knots + 2)
    offsets = np.concatenate([[0], rng.normal(0, wiggle_m, knots), [0]])
    pts = np.column_stack([x0 + t * (x1 - x0) + offsets * nx, y0 + t * (y1 - y0) + offsets * ny])
    for _ in range(3):  # Chaikin corner cutting
        q = 0.75 * pts[:-1] + 0.25 * pts[1:]
        r = 0.25 * pts[:-1] + 0.75 * pts[1:]
        pts = np.vstack([pts[:1], np.column_stack([q, r]).reshape(-1, 2), pts[-1:]])
    return LineString(pts)


def geojson(geom: BaseGeometry) -> dict:
    """GeoJSON geometry dict with coordinates rounded to 6 decimals."""
    mapping = shapely.geometry.mapping(geom)

    def rnd(value):
        if isinstance(value, (list, tuple)) and value and isinstance(value[0], (int, float)):
            return [round(float(v), 6) for v in value]
        return [rnd(v) for v in value]

    return {"type": mapping["type"], "coordinates": rnd(mapping["coordinates"])}
