"""ASGI entry point: Django HTTP, the Dash apps and the WebSocket hub in one process."""

from __future__ import annotations

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wall.settings")

from django.core.asgi import get_asgi_application  # noqa: E402

django_asgi = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from layouts.mount import DASH_PREFIXES, dash_asgi, inline_script_hashes  # noqa: E402
from realtime.routing import websocket_urlpatterns  # noqa: E402
from wall.middleware import PageSecurityHeaders  # noqa: E402
from wall.wsauth import TokenAuthMiddleware  # noqa: E402


class PrefixRouter:
    """Send HTTP requests under the Dash prefixes to the Dash apps, the rest to Django."""

    def __init__(self, default, prefixes: tuple[str, ...], app) -> None:
        self.default = default
        self.prefixes = prefixes
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        path = scope.get("path", "")
        if path.startswith(self.prefixes):
            await self.app(scope, receive, send)
        else:
            await self.default(scope, receive, send)


application = ProtocolTypeRouter(
    {
        "http": PageSecurityHeaders(
            PrefixRouter(django_asgi, DASH_PREFIXES, dash_asgi), (*DASH_PREFIXES, "/field/"), inline_script_hashes
        ),
        "websocket": AllowedHostsOriginValidator(TokenAuthMiddleware(URLRouter(websocket_urlpatterns))),
    }
)
