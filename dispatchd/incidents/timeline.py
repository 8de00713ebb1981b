"""The incident timeline: every action is stored, published on `incident.<id>` and written to the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone

from dispatchd import audit
from dispatchd.events import publish_on_commit
from dispatchd.models import Incident, IncidentAction


def topic(incident: Incident | int) -> str:
    """The hub topic of an incident."""
    return f"incident.{incident if isinstance(incident, int) else incident.pk}"


def action_dict(action: IncidentAction) -> dict[str, Any]:
    """The public view of a timeline entry."""
    return {
        "id": action.id, "incident_id": action.incident_id, "at": action.at.isoformat(), "actor": action.actor,
        "kind": action.kind, "text": action.text, "data": action.data,
    }


def record(
    incident: Incident, actor: str, kind: str, text: str = "", data: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> IncidentAction:
    """Append one action to the incident's timeline and announce it once the transaction commits."""
    action = IncidentAction.objects.create(
        incident=incident, at=at or timezone.now(), actor=actor, kind=kind, text=text[:500], data=data or {}
    )
    audit.record(actor, f"incident.{kind}", f"incident:{incident.pk}", text=action.text, data=action.data)
    publish_on_commit(topic(incident), "incident.action", action_dict(action))
    return action
