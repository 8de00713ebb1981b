"""Placeholder Dash pages for the screens whose real layouts have not landed yet (the war room).

Each page loads assets/hub.js (Dash serves every file of assets/), which connects to the hub and
shows the connection state in the `hub-status` element (its data-status attribute: connecting,
live, offline, refused).
"""

from __future__ import annotations

from dash import Dash, html
from flask import Flask

from layouts.pages import ASSETS, PAGE_SCRIPTS

PAGES = {
    "/warroom/": "战时指挥 · War room",
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
            assets_ignore="|".join(n.replace(".", r"\.") for n in PAGE_SCRIPTS),
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
