"""Making a Dash app for one page: local assets only, the shared header with the hub indicator."""

from __future__ import annotations

from pathlib import Path

from dash import Dash, html
from flask import Flask

# Absolute: Dash would resolve a relative folder against the made-up app names below.
ASSETS = Path(__file__).resolve().parent / "assets"
PAGE_SCRIPTS = ("wall-page.js", "console-page.js", "playback-page.js")


def make_app(server: Flask, prefix: str, title: str, script: str | None) -> Dash:
    """A Dash app at `prefix` that loads the shared assets plus its own page script only."""
    others = [name for name in PAGE_SCRIPTS if name != script]
    return Dash(
        __name__ + "." + prefix.strip("/"),
        server=server,
        url_base_pathname=prefix,
        title=title,
        serve_locally=True,
        assets_folder=str(ASSETS),
        assets_ignore="|".join(n.replace(".", r"\.") for n in others) if others else "",
        update_title=None,
        compress=False,
    )


def hub_status() -> html.Div:
    """The connection indicator hub.js drives (data-status: connecting, live, offline, refused).

    hub.js writes English words into it; the stylesheet hides them and shows Chinese ones per status.
    """
    return html.Div(
        "connecting…",
        id="hub-status",
        className="hub-status",
        **{"data-status": "connecting"},
    )


def camera_tiles(n: int) -> list[html.Div]:
    """`n` empty camera tiles (video, state text, name) for assets/camera-tiles.js to play into."""
    return [
        html.Div([html.Video(className="camera-video", autoPlay=True, muted=True),
                  html.Div("—", className="camera-placeholder"), html.Div("—", className="camera-name")],
                 className="camera-tile", **{"data-slot": str(i), "data-state": "idle"})
        for i in range(n)
    ]
