"""The wall's layout: a 3840×2160 stage scaled to the screen, map in the middle, panels either side.

Live parts (map layers, case feed, countdowns, alarms, counters) are driven in the browser by
assets/wall-page.js from hub events; the camera tiles play over WebRTC (assets/camera-tiles.js); the
statistics panels come from server callbacks (wall/panels.py).
Kiosk URL options: ?token=…&panels=map,feed,…&rotate=20&street=<id>&cameras=N&camrotate=S
(see layouts/README.md).
"""

from __future__ import annotations

from dash import ClientsideFunction, Dash, Input, Output, dcc, html
from flask import Flask

from layouts import db
from layouts.basemap import map_container
from layouts.labels import page_config
from layouts.pages import camera_tiles, hub_status, make_app
from layouts.wall import panels

STATS_INTERVAL_MS = 30_000
CAMERA_TILES = 4


def card(title: str, body, panel: str, extra_class: str = "", tabs: list[str] | None = None) -> html.Section:
    """A titled panel; `panel` is its name in the kiosk ?panels= option."""
    head = [html.H2(title)]
    if tabs:
        head.append(html.Div([html.Span(t, className="tab") for t in tabs], className="tabs"))
    return html.Section(
        [html.Header(head, className="card-head"), html.Div(body, className="card-body")],
        className=f"card {extra_class}".strip(),
        **{"data-panel": panel},
    )


def graph(graph_id: str) -> dcc.Graph:
    """A static chart that fills its panel."""
    return dcc.Graph(id=graph_id, config={"staticPlot": True}, responsive=True, style={"height": "100%"})


def _district_name() -> str:
    from dispatchd.models import District

    district = db.run(District.objects.order_by("id").first)
    return district.name if district else "本区"


def _header() -> html.Header:
    return html.Header(
        [
            html.Div(
                [html.Div(f"{_district_name()}城市运行管理服务指挥中心", className="title"),
                 html.Div("一网统管 · 指挥大厅实时监控", className="subtitle")],
                className="brand",
            ),
            html.Div([html.Div("--:--:--", id="wall-clock", className="clock"),
                      html.Div("", id="wall-date", className="date")], className="clock-box"),
            html.Div(
                [html.Div(id="wall-filter", className="filter-tag"),
                 html.Div(["统计更新 ", html.Span("—", id="stats-updated")], className="updated"),
                 hub_status()],
                className="status-box",
            ),
        ],
        className="wall-header",
    )


def _left() -> html.Div:
    rotating = [html.Div(graph(f"fig-{name}"), className="rot") for name in ("category", "street", "status")]
    return html.Div(
        [
            card("今日态势", html.Div(id="wall-kpis", className="kpis"), "kpi", "kpi-card"),
            card("今日案件来源", graph("fig-source"), "source"),
            card("今日案件分布", html.Div(rotating, className="rotator"), "dist", "rotating",
                 tabs=["按类别", "按街道", "按状态"]),
            card("近7日案件趋势", graph("fig-trend"), "trend"),
        ],
        className="col col-left",
    )


def _center(app: Dash) -> html.Div:
    return html.Div(
        [
            html.Section(
                [
                    map_container(app, "wall-map", zoomControl=False, dragging=False, scrollWheelZoom=False,
                                  doubleClickZoom=False, boxZoom=False, keyboard=False, touchZoom=False),
                    html.Div(id="map-counters", className="map-counters"),
                    html.Div(id="map-legend", className="map-legend"),
                ],
                className="card map-card",
                **{"data-panel": "map"},
            ),
            card("视频监控", html.Div(camera_tiles(CAMERA_TILES), id="wall-cameras", className="camera-strip"),
                 "cameras", "cameras-card"),
        ],
        className="col col-center",
    )


def _right() -> html.Div:
    # Dash re-renders a component whose children change (resetting its className), so the rotation
    # toggles classes on wrappers that never change.
    rankings = [html.Div(html.Div(id=f"rank-{name}", className="ranking"), className="rot")
                for name in ("street", "department")]
    return html.Div(
        [
            card("实时案件", html.Ol(id="wall-feed", className="feed"), "feed", "feed-card"),
            card("超期预警", html.Ol(id="wall-overdue", className="overdue"), "overdue", "overdue-card"),
            card("告警信息", html.Ol(id="wall-alarms", className="alarms"), "alarms", "alarms-card"),
            card("综合评价排名", html.Div(rankings, className="rotator"), "rank", "rotating rank-card",
                 tabs=["街道", "部门"]),
        ],
        className="col col-right",
    )


def layout(app: Dash) -> html.Div:
    """The whole page (built per page load, so the district name and labels are current).

    It carries the war-room stage too, hidden: warroom.js switches to it when an incident is declared.
    """
    from layouts.warroom.view import stage  # the war-room view uses this module's card()

    return html.Div(
        [
            dcc.Location(id="wall-url"),
            dcc.Store(id="wall-config", data=page_config(page="wall")),
            dcc.Store(id="wall-boot"),
            dcc.Store(id="wall-auth"),
            dcc.Interval(id="wall-tick", interval=STATS_INTERVAL_MS),
            html.Div(
                [_header(), html.Main([_left(), _center(app), _right()], className="wall-body")],
                id="wall-stage",
                className="wall-stage",
            ),
            dcc.Store(id="warroom-boot"),
            stage(app, with_status=False, hidden=True),
        ],
        className="wall-page",
    )


def register(server: Flask) -> Dash:
    """Create the wall app on `server`."""
    app = make_app(server, "/wall/", "指挥大厅大屏", "wall-page.js")
    app.layout = lambda: layout(app)
    app.clientside_callback(
        ClientsideFunction("wall", "auth"), Output("wall-auth", "data"), Input("wall-url", "search")
    )
    app.clientside_callback(
        ClientsideFunction("wall", "start"), Output("wall-boot", "data"), Input("wall-config", "data")
    )
    app.clientside_callback(  # follow incidents: assets/warroom.js
        ClientsideFunction("warroom", "follow"), Output("warroom-boot", "data"), Input("wall-config", "data")
    )
    panels.register(app)
    return app
