"""Roles and principals: who is calling, from a bearer token or a Django session."""

from __future__ import annotations

import hashlib
import secrets

from django.utils import timezone

from dispatchd.actors import ROLES
from dispatchd.actors import Actor as Principal
from wall.models import ApiToken

__all__ = ["ROLES", "Principal", "authenticate_token", "bearer_from_header", "create_token"]


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def create_token(role: str, name: str, worker_id: int | None = None) -> str:
    """Create a token for `role` and return it (it is not stored in clear)."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; one of {', '.join(ROLES)}")
    if role == "worker" and worker_id is None:
        raise ValueError("a worker token needs the worker it belongs to")
    raw = "wt_" + secrets.token_urlsafe(32)
    ApiToken.objects.create(name=name, role=role, prefix=raw[3:9], digest=_digest(raw), worker_id=worker_id)
    return raw


def authenticate_token(raw: str | None) -> Principal | None:
    """The principal a bearer token stands for, or None when unknown or revoked."""
    if not raw or len(raw) > 200:
        return None
    token = ApiToken.objects.filter(digest=_digest(raw), revoked_at__isnull=True).first()
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return Principal(name=token.name, role=token.role, worker_id=token.worker_id)


def principal_from_user(user) -> Principal | None:
    """The principal of a logged-in Django user: superusers are admins, else the first role group."""
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    if user.is_superuser:
        return Principal(name=user.get_username(), role="admin")
    for role in ("commander", "wall", "device"):
        if user.groups.filter(name=role).exists():
            return Principal(name=user.get_username(), role=role)
    return None


def bearer_from_header(header: str | None) -> str | None:
    """Extract the token of an `Authorization: Bearer …` header."""
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None
