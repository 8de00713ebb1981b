"""Roles and principals: who is calling, from a bearer token or a Django session."""

from __future__ import annotations

import hashlib
import secrets

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from dispatchd import audit
from dispatchd.actors import ROLES
from dispatchd.actors import Actor as Principal
from wall.models import ApiToken

__all__ = ["ROLES", "Principal", "authenticate_token", "bearer_from_header", "create_token", "revoke_tokens"]


def digest_of(raw: str) -> str:
    """The SHA-256 a token is stored as."""
    return hashlib.sha256(raw.encode()).hexdigest()


def create_token(role: str, name: str, worker_id: int | None = None, by: Principal | str = "system:cli") -> str:
    """Create a token for `role` and return it (it is not stored in clear); the audit log names `by`."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; one of {', '.join(ROLES)}")
    if role == "worker" and worker_id is None:
        raise ValueError("a worker token needs the worker it belongs to")
    body = secrets.token_urlsafe(32)
    while body.startswith("-"):  # its prefix is typed on command lines, where a leading "-" reads as an option
        body = secrets.token_urlsafe(32)
    raw = "wt_" + body
    with transaction.atomic():
        token = ApiToken.objects.create(
            name=name, role=role, prefix=raw[3:9], digest=digest_of(raw), worker_id=worker_id
        )
        audit.record(by, "token.create", f"token:{token.pk}", name=name, role=role, prefix=token.prefix,
                     worker=worker_id)
    return raw


def revoke_tokens(tokens: QuerySet[ApiToken], by: Principal | str = "system:cli") -> list[ApiToken]:
    """Revoke the live tokens among `tokens` at once (HTTP and new hub connections); returns those revoked."""
    now = timezone.now()
    with transaction.atomic():
        revoked = list(tokens.select_for_update().filter(revoked_at__isnull=True).order_by("pk"))
        ApiToken.objects.filter(pk__in=[token.pk for token in revoked]).update(revoked_at=now)
        for token in revoked:
            token.revoked_at = now
            audit.record(by, "token.revoke", f"token:{token.pk}", name=token.name, role=token.role,
                         prefix=token.prefix)
    return revoked


def authenticate_token(raw: str | None) -> Principal | None:
    """The principal a bearer token stands for, or None when unknown or revoked."""
    if not raw or len(raw) > 200:
        return None
    token = ApiToken.objects.filter(digest=digest_of(raw), revoked_at__isnull=True).first()
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


def principal_from_session(session_key: str) -> Principal | None:
    """The principal of a session that is still open: None once it is logged out, expired or its password changed."""
    from importlib import import_module
    from types import SimpleNamespace

    from django.conf import settings
    from django.contrib.auth import get_user

    session = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
    return principal_from_user(get_user(SimpleNamespace(session=session)))  # Django's own checks, as per request


def bearer_from_header(header: str | None) -> str | None:
    """Extract the token of an `Authorization: Bearer …` header."""
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None
