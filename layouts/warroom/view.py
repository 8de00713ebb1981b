"""The war-room view: header, centred map with rings, nearby lists, live cameras, cases/alarms, receipts, timeline.

The same skeleton serves /warroom/ and, hidden until an incident is declared, the wall (/wall/), where
assets/warroom.js switches to it in-page. Everything live is filled in by warroom.js.
"""

from __future__ import annotations

from dash import Dash, dcc, html

from layouts.basemap import map_container
from layouts.pages import camera_tiles, hub_status
from layouts.wall.page import card

CAMERA_TILES = 4


def _header(with_status: bool) -> html.Header:
    status = [hub_status()] if with_status else []
    return html.Header(
        [
            html.Div([html.Div("战时指挥", className="wr-badge"),
                      html.Div([html.Div("—", id="wr-title", className="title"),
                                html.Div(id="wr-meta", className="subtitle")])], className="brand"),
            html.Div([html.Div("00:00:00", id="wr-elapsed", className="clock"),
                      html.Div("事件已持续", className="date")], className="clock-box"),
            html.Div([html.Div(id="wr-counts", className="wr-counts"), *status], className="status-box"),
        ],
        className="wr-header",
    )


def _actions() -> html.Div:
    return html.Div(
        [
            html.Div([dcc.Input(id="wr-n", type="number", value=3, min=1, max=50, className="wr-input wr-num"),
                      html.Button("就近派遣", id="wr-dispatch", className="wr-btn")], className="wr-group"),
            html.Div([html.Select(id="wr-ring", className="wr-input wr-select"),
                      dcc.Input(id="wr-text", placeholder="广播指令", className="wr-input"),
                      html.Button("范围广播", id="wr-broadcast", className="wr-btn")], className="wr-group"),
            html.Div([dcc.Input(id="wr-note", placeholder="处置记录", className="wr-input"),
                      html.Button("添加记录", id="wr-add-note", className="wr-btn")], className="wr-group"),
            html.Button("开启会商", id="wr-conference", className="wr-btn"),
            html.Button("解除战时", id="wr-stand-down", className="wr-btn wr-danger"),
            html.Div(id="wr-message", className="wr-message"),
        ],
        id="wr-actions",
        className="wr-actions",
    )


def stage(app: Dash, with_status: bool = True, hidden: bool = False) -> html.Div:
    """The war-room stage (3840×2160, scaled to the screen by warroom.js); the wall's starts hidden."""
    local = html.Div([html.Div(id="wr-local-count", className="wr-sub"),
                      html.Ol(id="wr-local", className="wr-list wr-local")], className="wr-stack")
    left = html.Div(
        [
            card("周边人员（按圈层）", html.Div(id="wr-workers", className="wr-rings"), "wr-workers", "wr-fill"),
            card("圈内案件 · 告警", local, "wr-local", "wr-half"),
            card("应急资源 · 感知设备", html.Ol(id="wr-resources", className="wr-list"), "wr-resources", "wr-half"),
        ],
        className="col col-left",
    )
    center = html.Div(
        [
            html.Section([map_container(app, "warroom-map", zoomControl=False),
                          html.Div(id="wr-legend", className="map-legend")], className="card map-card"),
            card("周边视频", html.Div(camera_tiles(CAMERA_TILES), id="wr-cameras", className="camera-strip"),
                 "wr-cameras", "cameras-card"),
        ],
        className="col col-center",
    )
    right = html.Div(
        [
            card("出动人员 · 应答", html.Ol(id="wr-responders", className="wr-list"), "wr-responders", "wr-half"),
            card("广播指令 · 已读回执", html.Ol(id="wr-broadcasts", className="wr-list wr-broadcasts"), "wr-broadcasts",
                 "wr-half"),
            card("行动时间线", html.Ol(id="wr-timeline", className="wr-list wr-timeline"), "wr-timeline", "wr-fill"),
        ],
        className="col col-right",
    )
    body = html.Main([left, center, right], className="wall-body")
    report = html.Div(id="wr-report", className="wr-report", hidden=True)
    idle = html.Div("当前无战时事件", id="wr-idle", className="wr-idle", hidden=True)
    return html.Div([_header(with_status), _actions(), body, report, idle], id="warroom-stage",
                    className="wall-stage warroom-stage", hidden=hidden)
