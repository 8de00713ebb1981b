"""The shipped offline basemap is exactly what the generator draws from the default seed."""

from __future__ import annotations

import json

from dispatchd.demo.basemap import BASEMAP_DIR, write_basemap


def _decimals(coords) -> int:
    if isinstance(coords[0], (int, float)):
        return max(len(repr(float(v)).split(".")[1]) for v in coords)
    return max(_decimals(c) for c in coords)


def test_shipped_basemap_matches_the_generator(tmp_path):
    written = write_basemap(tmp_path)
    assert {p.name for p in written} == {
        "district.geojson", "streets.geojson", "communities.geojson", "grid.geojson", "roads.geojson",
        "water.geojson",
    }
    for path in written:
        shipped = BASEMAP_DIR / path.name
        assert shipped.read_bytes() == path.read_bytes(), f"{shipped} is stale: python -m dispatchd.demo.basemap"


def test_basemap_layers_are_small_feature_collections_with_names():
    grid = json.loads((BASEMAP_DIR / "grid.geojson").read_text(encoding="utf-8"))
    assert grid["type"] == "FeatureCollection" and len(grid["features"]) == 670
    assert all(f["properties"]["code"] and f["properties"]["name"] for f in grid["features"])
    roads = json.loads((BASEMAP_DIR / "roads.geojson").read_text(encoding="utf-8"))
    assert all(f["geometry"]["type"] == "LineString" and f["properties"]["name"] for f in roads["features"])
    for path in BASEMAP_DIR.glob("*.geojson"):
        layer = json.loads(path.read_text(encoding="utf-8"))
        assert all(_decimals(f["geometry"]["coordinates"]) <= 6 for f in layer["features"])
        assert path.stat().st_size < 400_000
