"""The duty commander's console at /console/: case queue, map with nearest workers, case detail and actions.

assets/console-page.js does the live work (queue, SLA countdowns, map, detail, actions, dispatch, video calls
through assets/calls.js) over the API and the hub; the only server callback turns the list on screen into CSV
or Excel (export.py).
"""

from __future__ import annotations

from dash import ClientsideFunction, Dash, Input, Output, dcc, html
from flask import Flask

from layouts.basemap import map_container
from layouts.console import export
from layouts.labels import OPEN_STATUSES, labels, page_config
from layouts.pages import camera_tiles, hub_status, make_app


def _select(select_id: str, options: dict[str, str], blank: str) -> html.Select:
    return html.Select(
        [html.Option(blank, value="")] + [html.Option(name, value=code) for code, name in options.items()],
        id=select_id,
        className="field",
    )


def _filters() -> html.Div:
    names = labels()
    statuses = {code: names["status"][code] for code in OPEN_STATUSES}
    return html.Div(
        [
            html.Select(
                [html.Option("全部在办", value="open"), html.Option("全部案件", value="")]
                + [html.Option(name, value=code) for code, name in {**statuses, "closed": "结案", "evaluated": "评价",
                                                                     "voided": "作废", "merged": "并案"}.items()],
                id="f-status", className="field",
            ),
            _select("f-severity", names["severity"], "全部等级"),
            html.Select([html.Option("全部街道", value="")], id="f-street", className="field"),
            _select("f-sla", {"warning": "预警", "overdue": "超期"}, "全部时限"),
            dcc.Input(id="f-q", type="search", placeholder="编号 / 标题 / 地址", className="field grow"),
        ],
        className="filters",
    )


CASE_CAMERAS = 2  # live tiles of the cameras nearest the selected case


def _case_cameras() -> html.Div:
    """Live tiles of the cameras nearest the selected case (assets/camera-tiles.js plays them)."""
    return html.Div([html.H4("附近视频"), html.Div(camera_tiles(CASE_CAMERAS), className="camera-strip")],
                    id="case-cameras", className="case-cameras", hidden=True)


def _call_panel() -> html.Aside:
    """The video call panel, docked over the map's lower right corner (filled by console-page.js)."""
    def button(text: str, button_id: str, tone: str = "") -> html.Button:
        return html.Button(text, id=button_id, className=f"btn {tone}".strip(), **{"aria-pressed": "false"})

    return html.Aside(
        [
            html.Div([html.H4("视频通话", id="call-title"),
                      html.Span(id="call-state", className="badge call-state", **{"data-state": "idle"}),
                      html.Button("×", id="call-close", className="btn ghost", title="关闭")],
                     className="call-head"),
            html.Div([html.Div(id="call-remote", className="call-remote"),
                      html.Video(id="call-local", className="call-local", autoPlay=True, muted=True)],
                     className="call-videos"),
            html.Div([html.Span(id="call-incoming-text", className="grow"),
                      button("接听", "call-answer"), button("拒接", "call-refuse", "danger")],
                     id="call-incoming", className="call-incoming", hidden=True),
            html.Ul(id="call-participants", className="call-participants"),
            html.Div([button("静音", "call-mute-audio"), button("关闭摄像头", "call-mute-video"),
                      button("添加参与方", "call-add-toggle", "ghost"), button("挂断", "call-hangup", "danger")],
                     className="call-buttons"),
            html.Div([html.Select(id="call-add-who", className="field grow"),
                      html.Button("邀请", id="call-add-go", className="btn")],
                     id="call-add", className="call-add", hidden=True),
        ],
        id="call-panel", className="call-panel", hidden=True, **{"data-state": "idle"},
    )


def layout(app: Dash) -> html.Div:
    """The console page."""
    return html.Div(
        [
            dcc.Store(id="console-config", data=page_config(page="console")),
            dcc.Store(id="console-boot"),
            dcc.Store(id="console-rows", data=[]),
            dcc.Download(id="console-download"),
            html.Header(
                [
                    html.Div("值班长工作台", className="app-title"),
                    html.Nav([html.A("指挥大屏", href="/wall/", target="_blank"),
                              html.A("轨迹回放", href="/playback/", target="_blank")]),
                    html.Select([html.Option("部门值守：无", value="")], id="desk-department", className="field desk",
                                title="以部门席位接听会商邀请"),
                    html.Div(id="console-who", className="who"),
                    hub_status(),
                ],
                className="app-header",
            ),
            html.Main(
                [
                    html.Section(
                        [
                            html.Div([html.H2("案件队列"), html.Span(id="queue-count", className="count"),
                                      html.Div([html.Button("导出CSV", id="export-csv", className="btn ghost"),
                                                html.Button("导出Excel", id="export-xlsx", className="btn ghost")],
                                               className="export")],
                                     className="panel-head"),
                            _filters(),
                            html.Div(
                                html.Table(
                                    [html.Thead(html.Tr([html.Th(t) for t in
                                                         ("编号", "标题", "等级", "状态", "时限")])),
                                     html.Tbody(id="console-queue")],
                                    className="queue",
                                ),
                                className="queue-wrap",
                            ),
                        ],
                        className="pane pane-queue",
                    ),
                    html.Section(
                        [map_container(app, "console-map"), html.Div(id="console-map-legend", className="map-legend"),
                         _call_panel()],
                        className="pane pane-map",
                    ),
                    html.Section(
                        [
                            html.Div(id="action-result", className="action-result", role="status"),
                            html.Div(html.Div("在队列或地图上选择一个案件", className="placeholder"),
                                     id="case-detail", className="case-detail"),
                            _case_cameras(),
                        ],
                        className="pane pane-detail",
                    ),
                ],
                className="console-body",
            ),
        ],
        className="console-page",
    )


def register(server: Flask) -> Dash:
    """Create the console app on `server`."""
    app = make_app(server, "/console/", "值班长工作台", "console-page.js")
    app.layout = lambda: layout(app)
    app.clientside_callback(
        ClientsideFunction("console", "start"), Output("console-boot", "data"), Input("console-config", "data")
    )
    export.register(app)
    return app
