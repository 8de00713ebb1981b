"""Placeholder Dash pages for the wall, console and war room until the real layouts land.

Each page loads assets/hub.js (Dash serves every file of assets/), which connects to the hub and
shows the connection state in the `hub-status` element (its data-status attribute: connecting,
live, offline, refused).
"""

from __future__ import annotations

from pathlib import Path

from dash import Dash, html
from flask import Flask

# Absolute: Dash would resolve a relative folder against the made-up app names below.
ASSETS = Path(__file__).resolve().parent / "assets"

PAGES = {
    "/wall/": "指挥大厅大屏 · Command wall",
    "/console/": "值班长工作台 · Commander console",
    "/warroom/": "战时指挥 · War room",
    "/playback/": "轨迹回放 · Trail playback",
}


def register(server: Flask) -> list[Dash]:
    """Create one Dash app per page on `server`."""
    apps = []
    for prefix, title in PAGES.items():
        app = Dash(
            __name__ + prefix.strip("/"),
            server=server,
            url_base_pathname=prefix,
            title=title,
            serve_locally=True,
            assets_folder=str(ASSETS),
        )
        app.layout = html.Div(
            [
                html.H1(title),
                html.Div("connecting…", id="hub-status", className="hub-status", **{"data-status": "connecting"}),
            ],
            className="page",
        )
        apps.append(app)
    return apps
