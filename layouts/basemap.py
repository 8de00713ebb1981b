"""The offline basemap as dash-leaflet layers: the shipped GeoJSON of layouts/assets/basemap/, plus tiles if set."""

from __future__ import annotations

import json
from functools import cache

import dash_leaflet as dl
from dash import Dash
from django.conf import settings

from layouts.pages import ASSETS

# (file, style, non-interactive) from the bottom up.
LAYERS = (
    ("district", dict(color="#2ba8ff", weight=4, fillColor="#0b1f3d", fillOpacity=0.9, opacity=0.9)),
    ("grid", dict(color="#2a5a8f", weight=1, fill=False, opacity=0.35)),
    ("communities", dict(color="#3b79bd", weight=1.5, fill=False, opacity=0.55, dashArray="6 6")),
    ("streets", dict(color="#4fa3ff", weight=3, fill=False, opacity=0.8)),
    ("water", dict(color="#1f6fd1", weight=9, opacity=0.75)),
    ("roads", dict(color="#5a7fae", weight=3, opacity=0.6)),
)


@cache
def district_bounds() -> list[list[float]]:
    """[[south, west], [north, east]] of the shipped district outline."""
    data = json.loads((ASSETS / "basemap" / "district.geojson").read_text())
    points = []
    for feature in data["features"]:
        geometry = feature["geometry"]
        polygons = [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
        points += [p for polygon in polygons for ring in polygon for p in ring]
    lons, lats = [p[0] for p in points], [p[1] for p in points]
    return [[min(lats), min(lons)], [max(lats), max(lons)]]


def district_center() -> list[float]:
    """[lat, lon] of the middle of the district's bounds."""
    (south, west), (north, east) = district_bounds()
    return [(south + north) / 2, (west + east) / 2]


def basemap_layers(app: Dash, map_id: str) -> list:
    """Tile layer (only when WALL_TILE_URL is set) and the basemap GeoJSON layers of map `map_id`, non-interactive."""
    layers: list = []
    if settings.WALL_TILE_URL:
        layers.append(dl.TileLayer(url=settings.WALL_TILE_URL, opacity=0.35))
    for name, style in LAYERS:
        layers.append(
            dl.GeoJSON(url=app.get_asset_url(f"basemap/{name}.geojson"), style=style, interactive=False,
                       id=f"{map_id}-base-{name}")
        )
    return layers


def map_container(app: Dash, map_id: str, **options) -> dl.MapContainer:
    """A canvas-rendered dash-leaflet map over the district; pages' scripts add their live layers to it."""
    return dl.MapContainer(
        basemap_layers(app, map_id),
        id=map_id,
        center=district_center(),
        zoom=13,
        preferCanvas=True,
        zoomAnimation=False,
        fadeAnimation=False,
        markerZoomAnimation=False,
        attributionControl=False,
        zoomSnap=0.25,
        className="wall-map",
        style={"width": "100%", "height": "100%"},
        **options,
    )
