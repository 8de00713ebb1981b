"""Role checks for API operations."""

from __future__ import annotations

from django.http import HttpRequest

from dispatchd.actors import Actor
from dispatchd.errors import NotAllowed

READERS = ("wall", "commander", "worker", "admin")
COMMANDERS = ("commander", "admin")


def require(request: HttpRequest, *roles: str) -> Actor:
    """The caller, if their role is one of `roles`; else 403."""
    actor: Actor = request.auth
    if actor.role not in roles:
        raise NotAllowed(f"role {actor.role} may not do this (needs one of: {', '.join(roles)})")
    return actor
