"""WebSocket authentication: a bearer token in the query string, or the Django session."""

from __future__ import annotations

from urllib.parse import parse_qs

from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async

from wall.auth import authenticate_token, principal_from_user


class _PrincipalMiddleware:
    def __init__(self, inner) -> None:
        self.inner = inner

    async def __call__(self, scope, receive, send):
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        token = (query.get("token") or [None])[0]
        principal = None
        if token:
            principal = await database_sync_to_async(authenticate_token)(token)
        elif scope.get("user") is not None:
            principal = await database_sync_to_async(principal_from_user)(scope["user"])
        scope = dict(scope, principal=principal)
        return await self.inner(scope, receive, send)


def TokenAuthMiddleware(inner):  # noqa: N802 - named like the Channels stacks it wraps
    """Session auth then token auth; sets scope["principal"] (None when anonymous)."""
    return AuthMiddlewareStack(_PrincipalMiddleware(inner))
