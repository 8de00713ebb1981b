"""One Flask server carrying every Dash app, exposed to the ASGI router."""

from __future__ import annotations

from asgiref.wsgi import WsgiToAsgi
from flask import Flask

from layouts import placeholder

DASH_PREFIXES: tuple[str, ...] = ("/wall/", "/console/", "/warroom/", "/playback/", "/_dash-shared/")

server = Flask("layouts")
placeholder.register(server)
dash_asgi = WsgiToAsgi(server)
