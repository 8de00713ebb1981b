"""The demo district's road graph: a jittered grid of streets, faster along the main roads, cut by the river
(crossed only where a main road bridges it) and by a park without roads, so road and straight-line order differ.

Pure computation apart from `use_demo_roads`, which writes the file into the data dir and configures it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from shapely.geometry import LineString, Point
from shapely.geometry.base import BaseGeometry

from dispatchd.demo.geography import DEFAULT_SEED, Geography, build_geography

SPACING_M = 250.0  # street grid
JITTER_M = 40.0  # how far a crossing strays from the grid
STREET_KMH = 25.0
MAIN_KMH = {"secondary": 40.0, "primary": 50.0, "trunk": 60.0}
MAIN_REACH_M = 130.0  # a grid edge this close to a main road runs along it (at its speed; a bridge over the river)
RIVER_WIDTH_M = 60.0
PARK_RADIUS_M = 700.0
FILE_NAME = "demo-roads.json"


def _to_plane(geography: Geography, geom: BaseGeometry) -> BaseGeometry:
    return shapely.transform(geom, lambda xy: np.column_stack(geography.plane.from_lonlat(xy[:, 0], xy[:, 1])))


def _park(rng: np.random.Generator, area: BaseGeometry, avoid: BaseGeometry) -> Point:
    """A park centre inside the district, as far from the main roads and the river as the candidates allow."""
    inner = area.buffer(-2 * PARK_RADIUS_M)
    minx, miny, maxx, maxy = inner.bounds
    candidates = [Point(x, y) for x, y in zip(rng.uniform(minx, maxx, 400), rng.uniform(miny, maxy, 400), strict=True)]
    inside = [p for p in candidates if inner.contains(p)]
    return max(inside, key=lambda p: (avoid.distance(p), -p.x))


def build_road_graph(geography: Geography, seed: int = DEFAULT_SEED) -> dict[str, Any]:
    """The road graph document (the JSON format of dispatchd/geo/roads.py) for the district of `seed`."""
    rng = np.random.default_rng([seed, 7])
    plane = geography.plane
    area = _to_plane(geography, geography.district.polygon)
    river = _to_plane(geography, geography.river.line).buffer(RIVER_WIDTH_M / 2)
    mains = [(_to_plane(geography, road.line), MAIN_KMH.get(road.kind, STREET_KMH)) for road in geography.roads]
    park_at = _park(rng, area, shapely.union_all([line for line, _ in mains] + [river]))
    park = park_at.buffer(PARK_RADIUS_M)

    minx, miny, maxx, maxy = area.buffer(SPACING_M).bounds
    cols, rows = int((maxx - minx) // SPACING_M) + 1, int((maxy - miny) // SPACING_M) + 1
    gx, gy = np.meshgrid(minx + np.arange(cols) * SPACING_M, miny + np.arange(rows) * SPACING_M, indexing="ij")
    x = gx + np.clip(rng.normal(0, JITTER_M / 2, gx.shape), -JITTER_M, JITTER_M)
    y = gy + np.clip(rng.normal(0, JITTER_M / 2, gy.shape), -JITTER_M, JITTER_M)
    points = shapely.points(x, y)
    keep = shapely.contains(area.buffer(SPACING_M / 2), points) & ~shapely.contains(park, points) \
        & ~shapely.contains(river, points)

    pairs: list[tuple[tuple[int, int], tuple[int, int]]] = []
    for i in range(cols):
        for j in range(rows):
            if keep[i, j]:
                pairs += [((i, j), nb) for nb in ((i + 1, j), (i, j + 1)) if nb[0] < cols and nb[1] < rows and keep[nb]]
    lines = [LineString([(x[a], y[a]), (x[b], y[b])]) for a, b in pairs]
    mids = shapely.points([line.interpolate(0.5, normalized=True).coords[0] for line in lines])
    speeds = np.full(len(lines), STREET_KMH)
    for line, kmh in sorted(mains, key=lambda m: m[1]):  # the fastest road wins where two meet
        speeds[shapely.dwithin(mids, line, MAIN_REACH_M)] = kmh
    crossing = shapely.intersects(np.array(lines, dtype=object), river)
    usable = ~crossing | (speeds > STREET_KMH)  # only main roads bridge the river
    edges = [(pair, float(kmh)) for pair, kmh, ok in zip(pairs, speeds, usable, strict=True) if ok]

    ids = {cell: n for n, cell in enumerate(sorted({c for pair, _ in edges for c in pair}))}
    graph = coo_matrix((np.ones(len(edges)), ([ids[a] for (a, _), _ in edges], [ids[b] for (_, b), _ in edges])),
                       shape=(len(ids), len(ids)))
    _count, label = connected_components(graph, directed=False)
    main_part = np.bincount(label).argmax()  # islands cut off by the river or the park are dropped
    nodes = []
    for cell, n in ids.items():
        if label[n] == main_part:
            lon, lat = plane.lonlat(float(x[cell]), float(y[cell]))
            nodes.append({"id": n, "lat": lat, "lon": lon})
    kept = {node["id"] for node in nodes}
    park_lon, park_lat = plane.lonlat(park_at.x, park_at.y)
    return {
        "about": {"seed": seed, "spacing_m": SPACING_M, "park": {"lat": park_lat, "lon": park_lon,
                                                                 "radius_m": PARK_RADIUS_M}},
        "nodes": nodes,
        "edges": [{"from": ids[a], "to": ids[b], "speed_kmh": kmh} for (a, b), kmh in edges if ids[a] in kept],
    }


def write_demo_roads(path: Path, seed: int = DEFAULT_SEED) -> Path:
    """Write the demo road graph of `seed` to `path` (atomically) and return it."""
    document = build_road_graph(build_geography(seed), seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    partial.write_text(json.dumps(document, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    partial.replace(path)
    return path


def use_demo_roads() -> Path:
    """Configure the demo road graph (written into the data dir on first use) unless WALL_ROAD_GRAPH names one."""
    from django.conf import settings

    from dispatchd.geo.roads import road_graph

    if settings.WALL_ROAD_GRAPH:
        road_graph()
        return Path(settings.WALL_ROAD_GRAPH)
    path = Path(settings.DATA_DIR) / FILE_NAME
    if not path.exists():
        write_demo_roads(path)
    settings.WALL_ROAD_GRAPH = str(path)  # the demo's default, set before anything serves
    road_graph()
    return path
