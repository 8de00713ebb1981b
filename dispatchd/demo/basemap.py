"""The shipped offline basemap: GeoJSON files drawn from the same seed as the demo city.

Regenerate with `python -m dispatchd.demo.basemap` (writes layouts/assets/basemap/).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from dispatchd.demo.geography import DEFAULT_SEED, Area, Geography, Road, build_geography
from dispatchd.demo.geometry import geojson

BASEMAP_DIR = Path(__file__).resolve().parents[2] / "layouts" / "assets" / "basemap"


def _areas(areas: list[Area], parents: list[Area] | None, parent_key: str) -> list[dict[str, Any]]:
    features = []
    for area in areas:
        props = {"code": area.code, "name": area.name}
        if parents is not None:
            props[parent_key] = parents[area.parent].code
        features.append({"type": "Feature", "properties": props, "geometry": geojson(area.polygon)})
    return features


def _lines(roads: list[Road]) -> list[dict[str, Any]]:
    return [
        {"type": "Feature", "properties": {"name": r.name, "kind": r.kind}, "geometry": geojson(r.line)}
        for r in roads
    ]


def layers(geography: Geography) -> dict[str, list[dict[str, Any]]]:
    """File name → GeoJSON features, one layer per file."""
    return {
        "district.geojson": _areas([geography.district], None, ""),
        "streets.geojson": _areas(geography.streets, None, ""),
        "communities.geojson": _areas(geography.communities, geography.streets, "street"),
        "grid.geojson": _areas(geography.cells, geography.communities, "community"),
        "roads.geojson": _lines(geography.roads),
        "water.geojson": _lines([geography.river]),
    }


def write_basemap(directory: Path = BASEMAP_DIR, seed: int = DEFAULT_SEED) -> list[Path]:
    """Write the basemap layers for `seed` into `directory`; returns the files written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, features in layers(build_geography(seed)).items():
        path = directory / name
        collection = {"type": "FeatureCollection", "features": features}
        path.write_text(json.dumps(collection, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    """Command line: write the basemap."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--out", type=Path, default=BASEMAP_DIR)
    args = parser.parse_args(argv)
    for path in write_basemap(args.out, args.seed):
        print(f"{path} ({path.stat().st_size // 1024} KiB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
