"""Who is looking: the page's bearer token or Django session, checked before server callbacks answer."""

from __future__ import annotations

import flask

from layouts import db

READER_ROLES = ("wall", "commander", "admin")


def _session_role(session_key: str) -> str | None:
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import SESSION_KEY, get_user_model
    from django.contrib.sessions.backends.base import SessionBase

    store: SessionBase = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
    user_id = store.get(SESSION_KEY)
    if user_id is None:
        return None
    from wall.auth import principal_from_user

    user = get_user_model().objects.filter(pk=user_id).first()
    principal = principal_from_user(user)
    return principal.role if principal else None


def role_of(token: str | None) -> str | None:
    """The role of the page's token, else of the request's Django session; None when anonymous."""
    from django.conf import settings

    from wall.auth import authenticate_token

    if token:
        principal = db.run(authenticate_token, token)
        return principal.role if principal else None
    session_key = flask.request.cookies.get(settings.SESSION_COOKIE_NAME) if flask.has_request_context() else None
    return db.run(_session_role, session_key) if session_key else None


def may_read(token: str | None) -> bool:
    """Whether the caller may see the statistics (the wall, commanders, admins)."""
    return role_of(token) in READER_ROLES
