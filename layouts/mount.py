"""One Flask server carrying every Dash app, exposed to the ASGI router."""

from __future__ import annotations

import asyncio
import contextvars

from asgiref.wsgi import WsgiToAsgi
from flask import Flask

from layouts import console, playback, wall, warroom

DASH_PREFIXES: tuple[str, ...] = ("/wall/", "/console/", "/warroom/", "/playback/", "/_dash-shared/")


class IsolatedContext:
    """Run an ASGI app, and every `send` it makes, in empty contextvars contexts.

    WsgiToAsgi sends from its worker thread through AsyncToSync, which leaves a CurrentThreadExecutor
    in the context of Daphne's connection callbacks; the next request on that keep-alive connection
    then inherits it and fails ("CurrentThreadExecutor already quit or is broken", or the ORM's
    SynchronousOnlyOperation). Fresh contexts keep each request to itself.
    """

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        loop = asyncio.get_running_loop()

        async def isolated_send(message) -> None:
            await loop.create_task(send(message), context=contextvars.Context())

        await loop.create_task(self.app(scope, receive, isolated_send), context=contextvars.Context())


server = Flask("layouts")
DASH_APPS = tuple(page.register(server) for page in (wall, console, playback, warroom))
dash_asgi = IsolatedContext(WsgiToAsgi(server))


def inline_script_hashes() -> list[str]:
    """CSP hashes of every Dash app's inline scripts (call once all callbacks are defined)."""
    return sorted({h for app in DASH_APPS for h in app.csp_hashes()})
