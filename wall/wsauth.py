"""WebSocket authentication: a bearer token in the query string, or the Django session."""

from __future__ import annotations

from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async

from realtime.identity import query_token
from wall.auth import authenticate_token, principal_from_user


async def _resolved_scope(scope, _receive, _send) -> dict:
    """The scope as Channels' cookie, session and auth middleware leave it (their stack returns what this does)."""
    return scope


class TokenAuthMiddleware:
    """Sets scope["principal"] (None when anonymous) from the query's token, else from the session.

    Channels' session and auth middleware resolve the session and the user (only when there is no token), but
    the connection is then served with the transport's own `send`: a hub connection never changes its session,
    and the session wrapper would otherwise inspect the session on every frame sent (some 5 % of a busy hub's CPU).
    """

    def __init__(self, inner) -> None:
        self.inner = inner
        self._resolve = AuthMiddlewareStack(_resolved_scope)

    async def __call__(self, scope, receive, send):
        token = query_token(scope)
        if token:
            principal = await database_sync_to_async(authenticate_token)(token)
            return await self.inner(dict(scope, principal=principal), receive, send)
        resolved = await self._resolve(scope, receive, send)
        user = resolved.get("user")
        principal = await database_sync_to_async(principal_from_user)(user) if user is not None else None
        return await self.inner(dict(resolved, principal=principal), receive, send)
