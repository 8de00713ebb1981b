"""The demo district's geography: outline, 6 streets, ~30 communities, 670 grid cells, roads, a river.

Pure computation apart from `save_geography`, so that the basemap can be drawn without Django.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import shapely
from shapely.geometry import LineString, Polygon
from shapely.geometry.base import BaseGeometry

from dispatchd.demo import geometry as geo
from dispatchd.demo import names

if TYPE_CHECKING:
    from dispatchd.models import Community, District, GridCell, Street

DEFAULT_SEED = 20261121
CELL_COUNT = 670
STREET_COUNT = 6
COMMUNITY_COUNTS = (4, 5, 5, 5, 5, 6)  # 30 communities, shuffled over the streets
CENTRE_LON, CENTRE_LAT = 114.35, 22.71  # the box 114.28–114.42 E, 22.66–22.76 N
HALF_W_M, HALF_H_M = 6900.0, 5300.0


@dataclass(frozen=True)
class Area:
    """A named area of the hierarchy; `parent` indexes the list one level up."""

    code: str
    name: str
    polygon: BaseGeometry  # lon/lat
    parent: int = -1


@dataclass(frozen=True)
class Road:
    """A named line on the basemap: a road (kind primary/secondary/trunk) or the river."""

    name: str
    kind: str
    line: LineString  # lon/lat


@dataclass(frozen=True)
class Geography:
    """Everything spatial about the demo district, in lon/lat (the plane is kept for sampling)."""

    plane: geo.Plane
    district: Area
    streets: list[Area]
    communities: list[Area]
    cells: list[Area]
    roads: list[Road]
    river: Road


def _reading_key(centre: np.ndarray, row_m: float = 1500) -> tuple[int, float]:
    """Rows north to south, then west to east: the order a surveyor numbers areas in."""
    return -round(float(centre[1]) / row_m), float(centre[0])


def _plan_partition(rng: np.random.Generator, cells_m: list[Polygon]) -> tuple[list[int], list[int], list[int]]:
    """Street of each community, community of each cell (in cell order), and the cell order."""
    centres = np.array([geo.inner_centre(c) for c in cells_m])
    neighbours = geo.adjacency(cells_m)
    everything = list(range(len(cells_m)))
    street_of = geo.grow_regions(everything, centres, neighbours, rng.uniform(0.8, 1.2, STREET_COUNT), rng)
    counts = list(COMMUNITY_COUNTS)
    rng.shuffle(counts)
    community_of: dict[int, tuple[int, int]] = {}
    for s in range(STREET_COUNT):
        members = [c for c in everything if street_of[c] == s]
        local = geo.grow_regions(members, centres, neighbours, rng.uniform(0.7, 1.3, counts[s]), rng)
        community_of.update({c: (s, r) for c, r in local.items()})

    def mean_centre(members: list[int]) -> np.ndarray:
        return centres[members].mean(axis=0)

    street_centre = {s: mean_centre([c for c in everything if street_of[c] == s]) for s in range(STREET_COUNT)}
    street_rank = {s: i for i, s in enumerate(sorted(street_centre, key=lambda s: _reading_key(street_centre[s])))}
    groups = sorted(set(community_of.values()))
    group_centre = {g: mean_centre([c for c in everything if community_of[c] == g]) for g in groups}
    group_order = sorted(groups, key=lambda g: (street_rank[g[0]], *_reading_key(group_centre[g])))
    group_rank = {g: i for i, g in enumerate(group_order)}
    community_street = [street_rank[g[0]] for g in group_order]
    cell_order = sorted(everything, key=lambda c: (group_rank[community_of[c]], *_reading_key(centres[c], 300)))
    cell_community = [group_rank[community_of[c]] for c in cell_order]
    return community_street, cell_community, cell_order


def _roads(rng: np.random.Generator, plane: geo.Plane, outline: Polygon) -> tuple[list[Road], Road]:
    reach = outline.buffer(350)
    w, h = HALF_W_M + 1500, HALF_H_M + 1500
    ends = [
        ((-w, rng.uniform(1500, 3000)), (w, rng.uniform(1000, 3200))),
        ((-w, rng.uniform(-800, 800)), (w, rng.uniform(-800, 800))),
        ((-w, rng.uniform(-3500, -2000)), (w, rng.uniform(-3200, -1500))),
        ((rng.uniform(-4500, -3000), -h), (rng.uniform(-4000, -2500), h)),
        ((rng.uniform(-500, 800), -h), (rng.uniform(-800, 500), h)),
        ((rng.uniform(2800, 4200), -h), (rng.uniform(3000, 4500), h)),
        ((-w, -h * 0.9), (w, h * 0.8)),
    ]
    roads = []
    for (name, kind), (a, b) in zip(names.ROADS, ends, strict=True):
        line = geo.wavy_line(rng, a, b, wiggle_m=250 if kind != "trunk" else 450).intersection(reach)
        if line.geom_type == "MultiLineString":
            line = max(line.geoms, key=lambda part: part.length)
        roads.append(Road(name, kind, plane.to_lonlat(line.simplify(8))))
    river_line = geo.wavy_line(rng, (-w, h * 0.55), (w, -h * 0.45), wiggle_m=900, knots=9)
    river_line = river_line.intersection(outline.buffer(900))
    if river_line.geom_type == "MultiLineString":
        river_line = max(river_line.geoms, key=lambda part: part.length)
    return roads, Road(names.RIVER, "river", plane.to_lonlat(river_line.simplify(8)))


def build_geography(seed: int) -> Geography:
    """The district for `seed`: the same seed always gives the same geography."""
    rng = np.random.default_rng([seed, 1])
    plane = geo.Plane(CENTRE_LON, CENTRE_LAT)
    outline = geo.blob(rng, HALF_W_M, HALF_H_M)
    towns = [(rng.uniform(-4500, 4500), rng.uniform(-3000, 3000), rng.uniform(1200, 2200)) for _ in range(3)]
    points = geo.lloyd(geo.density_points(rng, outline, CELL_COUNT, towns), outline, rounds=2)
    cells_m = geo.voronoi_cells(points, outline)
    community_street, cell_community, cell_order = _plan_partition(rng, cells_m)

    cells_ll = [plane.to_lonlat(cells_m[i]) for i in cell_order]
    if any(c.geom_type != "Polygon" for c in cells_ll):
        raise ValueError("a grid cell collapsed when snapped to the 1e-6° grid")
    name_rng = random.Random(f"{seed}-places")
    community_names = name_rng.sample(names.COMMUNITIES, len(community_street))

    def union(polys: list[BaseGeometry]) -> BaseGeometry:
        return shapely.set_precision(shapely.union_all(polys), geo.PRECISION_DEG)

    streets = []
    for s, street_name in enumerate(names.STREETS):
        members = [c for c, comm in zip(cells_ll, cell_community, strict=True) if community_street[comm] == s]
        streets.append(Area(f"{names.DISTRICT_CODE}{s + 1:03d}", street_name, union(members)))
    communities, per_street = [], [0] * STREET_COUNT
    for k, s in enumerate(community_street):
        per_street[s] += 1
        members = [c for c, comm in zip(cells_ll, cell_community, strict=True) if comm == k]
        communities.append(Area(f"{streets[s].code}{per_street[s]:03d}", f"{community_names[k]}社区",
                                union(members), parent=s))
    cells, per_community = [], [0] * len(communities)
    for polygon, k in zip(cells_ll, cell_community, strict=True):
        per_community[k] += 1
        n = per_community[k]
        cells.append(Area(f"{communities[k].code}{n:03d}", f"{communities[k].name}第{n:02d}网格", polygon, parent=k))
    district = Area(names.DISTRICT_CODE, names.DISTRICT_NAME, union(cells_ll))
    roads, river = _roads(rng, plane, outline)
    return Geography(plane, district, streets, communities, cells, roads, river)


@dataclass
class GeoRecords:
    """The saved hierarchy, parallel to the Geography lists."""

    district: District
    streets: list[Street]
    communities: list[Community]
    cells: list[GridCell]


def save_geography(geography: Geography) -> GeoRecords:
    """Write the district, streets, communities and cells to the database."""
    from dispatchd.geo.gridindex import invalidate
    from dispatchd.models import Community, District, GridCell, Street

    d = geography.district
    district = District.objects.create(code=d.code, name=d.name, polygon=geo.geojson(d.polygon))
    streets = Street.objects.bulk_create(
        Street(district=district, code=a.code, name=a.name, polygon=geo.geojson(a.polygon)) for a in geography.streets
    )
    communities = Community.objects.bulk_create(
        Community(street=streets[a.parent], code=a.code, name=a.name, polygon=geo.geojson(a.polygon))
        for a in geography.communities
    )
    cells = GridCell.objects.bulk_create(
        GridCell(community=communities[a.parent], code=a.code, name=a.name, polygon=geo.geojson(a.polygon))
        for a in geography.cells
    )
    invalidate()  # bulk_create sends no post_save: make the grid index see the new cells
    return GeoRecords(district, streets, communities, cells)
