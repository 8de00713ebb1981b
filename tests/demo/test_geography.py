"""The demo district's geography: deterministic, 670 valid non-overlapping cells, a proper hierarchy."""

from __future__ import annotations

import hashlib
import json

import pytest
import shapely

from dispatchd.demo.geography import DEFAULT_SEED, Geography, build_geography
from dispatchd.demo.geometry import geojson


@pytest.fixture(scope="module")
def geography() -> Geography:
    return build_geography(DEFAULT_SEED)


def digest(geography: Geography) -> str:
    areas = [geography.district, *geography.streets, *geography.communities, *geography.cells]
    rows = [[a.code, a.name, a.parent, geojson(a.polygon)] for a in areas]
    rows += [[r.name, r.kind, geojson(r.line)] for r in [*geography.roads, geography.river]]
    return hashlib.sha256(json.dumps(rows, ensure_ascii=False).encode()).hexdigest()


def test_same_seed_gives_the_same_geography(geography):
    assert digest(build_geography(DEFAULT_SEED)) == digest(geography)


def test_another_seed_gives_another_geography(geography):
    assert digest(build_geography(DEFAULT_SEED + 1)) != digest(geography)


def test_hierarchy_has_670_cells_in_30_communities_in_6_streets(geography):
    assert len(geography.cells) == 670
    assert len(geography.streets) == 6
    assert len(geography.communities) == 30
    assert all(s.name.endswith("街道") for s in geography.streets)
    assert all(c.name.endswith("社区") for c in geography.communities)
    assert {c.parent for c in geography.communities} == set(range(6))
    assert {c.parent for c in geography.cells} == set(range(30))


def test_codes_are_hierarchical(geography):
    district = geography.district.code
    assert len(district) == 6
    for street in geography.streets:
        assert street.code.startswith(district) and len(street.code) == 9
    for community in geography.communities:
        assert community.code.startswith(geography.streets[community.parent].code) and len(community.code) == 12
    for cell in geography.cells:
        assert cell.code.startswith(geography.communities[cell.parent].code) and len(cell.code) == 15
    assert len({c.code for c in geography.cells}) == 670


def test_cells_are_valid_polygons_that_tile_the_district_without_overlap(geography):
    cells = [c.polygon for c in geography.cells]
    assert all(c.geom_type == "Polygon" and c.is_valid and c.area > 0 for c in cells)
    union = shapely.union_all(cells)
    assert sum(c.area for c in cells) == pytest.approx(union.area, rel=1e-6)
    assert union.area == pytest.approx(geography.district.polygon.area, rel=1e-6)


def test_streets_and_communities_are_unions_of_their_cells(geography):
    for k, community in enumerate(geography.communities):
        members = [c.polygon for c in geography.cells if c.parent == k]
        assert community.polygon.area == pytest.approx(sum(p.area for p in members), rel=1e-5)
    assert sum(s.polygon.area for s in geography.streets) == pytest.approx(geography.district.polygon.area, rel=1e-5)


def test_district_lies_in_the_south_china_box(geography):
    min_lon, min_lat, max_lon, max_lat = geography.district.polygon.bounds
    assert 114.28 <= min_lon < max_lon <= 114.42
    assert 22.66 <= min_lat < max_lat <= 22.76


def test_roads_and_river_cross_the_district(geography):
    assert len(geography.roads) >= 5
    district = geography.district.polygon
    for line in [*[r.line for r in geography.roads], geography.river.line]:
        assert line.geom_type == "LineString" and line.intersects(district)
