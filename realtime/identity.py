"""Who is on a hub connection: the principal from the scope, or from a first `auth` frame."""

from __future__ import annotations

import asyncio
import time
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


# Re-checks of open connections, shared: connections with the same credential (a wall token on many screens)
# cost one database query per interval between them, not one each.
_rechecks: dict[tuple[int, str, str], tuple[float, asyncio.Future]] = {}


async def recheck(path: str, credential: str, fresh_s: float) -> Any:
    """Like `authenticate`, but a check of the same credential made less than `fresh_s` ago answers for it.

    So a revoked token or an ended session is noticed at most `fresh_s` later than a check of its own would.
    """
    now = time.monotonic()
    key = (id(asyncio.get_running_loop()), path, credential)  # a future belongs to its event loop
    held = _rechecks.get(key)
    if held is None or held[0] <= now:
        if len(_rechecks) > 10_000:
            for stale in [k for k, (until, _) in _rechecks.items() if until <= now]:
                del _rechecks[stale]
        held = (now + fresh_s, asyncio.ensure_future(authenticate(path, credential)))
        _rechecks[key] = held
    return await asyncio.shield(held[1])
