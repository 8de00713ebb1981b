"""`GET /api/audit`: the audit log, for admins only (nobody may change it, so there is nothing else)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from django.db.models import Q
from django.http import HttpRequest
from ninja import Router, Schema
from pydantic import Field

from dispatchd.models import AuditEntry
from wall.api.base import BearerOrSession, api
from wall.api.schemas import Moment, Text

router = Router(tags=["audit"], auth=BearerOrSession(roles=("admin",)))


class AuditEntryOut(Schema):
    id: int
    at: datetime
    actor: str
    role: str
    action: str
    target: str
    detail: dict[str, Any]
    ip: str | None


@router.get("/audit", response=list[AuditEntryOut], summary="The audit log, newest first (admins only)")
def audit_log(
    request: HttpRequest,
    actor: Text(150) | None = None,
    action: Text(64) | None = None,
    target: Text(200) | None = None,
    since: Moment | None = None,
    limit: Annotated[int, Field(ge=1, le=1000)] = 100,
):
    """Entries matching every filter given: actor name, action (exact, or a family such as `case` or `login`),
    target (e.g. `case:12`), at or after `since`."""
    entries = AuditEntry.objects.all()
    if actor:
        entries = entries.filter(actor=actor)
    if action:
        family = action.rstrip(".")
        entries = entries.filter(Q(action=family) | Q(action__startswith=family + "."))
    if target:
        entries = entries.filter(target=target)
    if since:
        entries = entries.filter(at__gte=since)
    return list(entries.order_by("-id")[:limit])


api.add_router("/", router)
