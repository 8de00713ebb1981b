"""Placeholder Dash pages for the wall, console and war room until the real layouts land."""

from __future__ import annotations

from dash import Dash, html
from flask import Flask

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
            assets_folder="assets",
        )
        app.layout = html.Div(
            [html.H1(title), html.Div("connecting…", id="hub-status", className="hub-status")],
            className="page",
        )
        apps.append(app)
    return apps
