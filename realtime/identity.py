"""Who is on a hub connection: the principal from the scope, or from a first `auth` frame."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from django.utils.module_loading import import_string


def query_token(scope: dict) -> str | None:
    """The `token` of the connection's query string, if any."""
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    return (query.get("token") or [None])[0]


def session_key(scope: dict) -> str | None:
    """The key of the Django session the connection came with (set by Channels' SessionMiddleware), if any."""
    session = scope.get("session")
    return getattr(session, "session_key", None) if session is not None else None


def _authenticator(path: str) -> Callable[[str], Any]:
    return import_string(path)


async def authenticate(path: str, token: Any) -> Any:
    """The principal for `token` using the authenticator at dotted `path`, or None."""
    if not isinstance(token, str) or not token or len(token) > 200:
        return None
    return await database_sync_to_async(_authenticator(path))(token)
