"""The war room (/warroom/, /warroom/<id>, /warroom/<id>/report): one incident takes over the screen.

/warroom/ follows the current incident (or says there is none); /warroom/<id> shows one incident;
/warroom/<id>/report its report with CSV/Excel export. The browser side is assets/warroom.js.
"""

from __future__ import annotations

from dash import ClientsideFunction, Dash, Input, Output, dcc, html
from flask import Flask

from layouts.labels import page_config
from layouts.pages import make_app
from layouts.warroom.view import stage


def layout(app: Dash) -> html.Div:
    """The page: the config the script starts from and the war-room stage."""
    return html.Div(
        [dcc.Store(id="warroom-config", data=page_config(page="warroom")), dcc.Store(id="warroom-boot"),
         stage(app)],
        className="wall-page warroom-page",
    )


def register(server: Flask) -> Dash:
    """Create the war-room app on `server`."""
    app = make_app(server, "/warroom/", "战时指挥 · War room", None)
    app.layout = lambda: layout(app)
    app.clientside_callback(
        ClientsideFunction("warroom", "page"), Output("warroom-boot", "data"), Input("warroom-config", "data")
    )
    return app
