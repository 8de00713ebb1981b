"""Worker trail playback at /playback/: pick a worker and a time range, play the track on the map.

assets/playback-page.js fetches GET /api/workers/{id}/trail and animates it; the speed slider
reaches it through a clientside callback.
"""

from __future__ import annotations

from dash import ClientsideFunction, Dash, Input, Output, dcc, html
from flask import Flask

from layouts import db
from layouts.basemap import map_container
from layouts.labels import page_config
from layouts.pages import make_app

SPEEDS = {1: "1×", 10: "10×", 30: "30×", 60: "60×", 120: "120×", 300: "300×"}


def _workers() -> list[dict]:
    from dispatchd.models import Worker

    return [
        {"label": f"{name}（{code}）", "value": pk}
        for pk, code, name in Worker.objects.order_by("code").values_list("pk", "code", "name")
    ]


def layout(app: Dash) -> html.Div:
    """The playback page."""
    controls = html.Div(
        [
            html.Div([html.Label("人员", htmlFor="play-worker"),
                      dcc.Dropdown(id="play-worker", options=db.run(_workers), placeholder="选择人员",
                                   className="dropdown")]),
            html.Div([html.Label("开始时间", htmlFor="play-from"),
                      dcc.Input(id="play-from", type="datetime-local", className="field")]),
            html.Div([html.Label("结束时间", htmlFor="play-to"),
                      dcc.Input(id="play-to", type="datetime-local", className="field")]),
            html.Button("载入轨迹", id="play-load", className="btn"),
            html.Div(id="play-error", className="play-error"),
            html.Div("--:--:--", id="play-clock", className="play-clock"),
            html.Div(id="play-progress-box"),
            html.Div([html.Button("播放", id="play-toggle", className="btn"),
                      html.Button("重播", id="play-restart", className="btn ghost")], className="play-buttons"),
            html.Div([html.Label("回放速度"),
                      dcc.Slider(id="play-speed", min=0, max=len(SPEEDS) - 1, step=1, value=2,
                                 marks={i: label for i, label in enumerate(SPEEDS.values())})]),
            html.Div(id="play-stats", className="play-stats"),
        ],
        className="pane playback-controls",
    )
    return html.Div(
        [
            dcc.Store(id="play-config", data=page_config(page="playback", speeds=list(SPEEDS))),
            dcc.Store(id="play-boot"),
            dcc.Store(id="play-speed-set"),
            dcc.Store(id="play-worker-set"),
            html.Header(
                [html.Div("轨迹回放", className="app-title"),
                 html.Nav([html.A("值班长工作台", href="/console/"), html.A("指挥大屏", href="/wall/")])],
                className="app-header",
            ),
            html.Main([controls, html.Section(map_container(app, "playback-map"), className="pane")],
                      className="playback-body"),
        ],
        className="playback-page",
    )


def register(server: Flask) -> Dash:
    """Create the playback app on `server`."""
    app = make_app(server, "/playback/", "轨迹回放", "playback-page.js")
    app.layout = lambda: layout(app)
    app.clientside_callback(
        ClientsideFunction("playback", "start"), Output("play-boot", "data"), Input("play-config", "data")
    )
    app.clientside_callback(
        ClientsideFunction("playback", "speed"), Output("play-speed-set", "data"), Input("play-speed", "value")
    )
    app.clientside_callback(
        ClientsideFunction("playback", "worker"), Output("play-worker-set", "data"), Input("play-worker", "value")
    )
    return app
