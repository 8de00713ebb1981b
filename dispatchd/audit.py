"""The audit log's one entry point: `record(actor, action, target, **detail)`.

An entry is written in the caller's transaction, so an act that is rolled back leaves no entry. The source
address comes from the request being served (set by wall.middleware.AuditContextMiddleware) unless given.
"""

from __future__ import annotations

import contextvars
import ipaddress
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone

from dispatchd.actors import Actor
from dispatchd.models import AuditEntry

log = logging.getLogger("dispatchd.audit")
_source_ip: contextvars.ContextVar[str | None] = contextvars.ContextVar("audit_source_ip", default=None)


@contextmanager
def source_ip(ip: str | None) -> Iterator[None]:
    """Attribute the entries recorded inside the block to the client address `ip`."""
    reset = _source_ip.set(ip)
    try:
        yield
    finally:
        _source_ip.reset(reset)


def _who(actor: Actor | str | None) -> tuple[str, str]:
    """(name, role) of an actor, of a timeline label "role:name", or of nobody."""
    if actor is None:
        return "", ""
    if isinstance(actor, Actor):
        return actor.name, actor.role
    role, sep, name = actor.partition(":")
    return (name, role) if sep else (actor, "")


class _Encoder(DjangoJSONEncoder):
    """Django's JSON encoder (dates, decimals, UUIDs), with anything else written as its str()."""

    def default(self, o: Any) -> Any:
        try:
            return super().default(o)
        except TypeError:
            return str(o)


def _json_ready(detail: dict[str, Any]) -> dict[str, Any]:
    """The detail with dates, decimals and model instances turned into JSON values."""
    return json.loads(json.dumps(detail, cls=_Encoder))


def valid_ip(value: str | None) -> str | None:
    """`value` if it is an IP address, else None (a unix socket peer, a garbled header)."""
    try:
        return str(ipaddress.ip_address(value)) if value else None
    except ValueError:
        return None


def record(
    actor: Actor | str | None, action: str, target: str = "", *, ip: str | None = None, **detail: Any
) -> AuditEntry:
    """Append one entry to the audit log (in the current transaction, if any)."""
    name, role = _who(actor)
    entry = AuditEntry.objects.create(
        at=timezone.now(), actor=name[:150], role=role[:16], action=action[:64], target=target[:200],
        detail=_json_ready(detail), ip=valid_ip(ip or _source_ip.get()),
    )
    log.info("%s:%s %s %s %s", role, name, action, target, entry.detail)
    return entry
