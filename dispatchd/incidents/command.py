"""Declaring an incident (from a case or directly) and standing it down."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone

from dispatchd.actors import Actor
from dispatchd.errors import InvalidInput, NotFound, TransitionRefused
from dispatchd.events import publish_on_commit
from dispatchd.incidents.timeline import record, topic
from dispatchd.intake import Report, create_case
from dispatchd.models import Case, Incident, IncidentState
from dispatchd.models.cases import Source
from dispatchd.models.catalog import Severity
from dispatchd.models.incidents import default_rings

MAX_RING_M = 50_000
MAX_RINGS = 5


@dataclass
class Declaration:
    """What the commander declares: a case to raise, or a place, title and category for a new case."""

    level: int = 2
    commander: str = ""
    rings_m: list[int] = field(default_factory=default_rings)
    case_id: int | None = None
    title: str = ""
    lat: float | None = None
    lon: float | None = None
    category: int | str | None = None
    address: str = ""


def incident_dict(incident: Incident) -> dict[str, Any]:
    """The public view of an incident."""
    case = incident.case
    return {
        "id": incident.id, "title": incident.title, "level": incident.level,
        "level_label": incident.get_level_display(), "lat": incident.lat, "lon": incident.lon,
        "rings_m": incident.rings_m, "commander": incident.commander, "case_id": incident.case_id,
        "case_number": case.number if case else None, "state": incident.state, "topic": topic(incident),
        "declared_by": incident.declared_by, "declared_at": incident.declared_at.isoformat(),
        "stood_down_at": incident.stood_down_at.isoformat() if incident.stood_down_at else None,
    }


def _rings(rings: list[int]) -> list[int]:
    rings = sorted(set(rings))
    if not 1 <= len(rings) <= MAX_RINGS or not all(isinstance(r, int) and 10 <= r <= MAX_RING_M for r in rings):
        raise InvalidInput({"rings_m": f"1 to {MAX_RINGS} radii in metres, each from 10 to {MAX_RING_M}"})
    return rings


def _case(declaration: Declaration, actor: Actor) -> Case:
    if declaration.case_id is not None:
        case = Case.objects.select_related("category").filter(pk=declaration.case_id).first()
        if case is None:
            raise InvalidInput({"case_id": f"unknown case {declaration.case_id}"})
        return case
    missing = {name: "required when no case_id is given" for name in ("title", "lat", "lon", "category")
               if getattr(declaration, name) in (None, "")}
    if missing:
        raise InvalidInput(missing)
    report = Report(
        title=declaration.title, category=declaration.category, lat=declaration.lat, lon=declaration.lon,
        source=Source.OTHER_SYSTEM, severity=Severity.MAJOR, urgent=True, address=declaration.address,
    )
    return create_case(report, actor)


def declare(declaration: Declaration, actor: Actor) -> Incident:
    """Declare an incident: every following wall switches to the war room; the incident gets its own case."""
    rings = _rings(declaration.rings_m)
    with transaction.atomic():
        case = _case(declaration, actor)
        incident = Incident.objects.create(
            title=declaration.title or case.title, level=declaration.level, lat=case.lat, lon=case.lon,
            rings_m=rings, commander=declaration.commander or actor.name, case=case,
            declared_by=actor.label, declared_at=timezone.now(),
        )
        data = incident_dict(incident)
        record(incident, actor.label, "declared", incident.title, {"case_id": case.id, "rings_m": rings,
                                                                    "level": incident.level})
        publish_on_commit("incidents", "incident.declared", data)
        publish_on_commit(topic(incident), "incident.declared", data)
    return incident


def get(incident_id: int) -> Incident:
    """The incident, or NotFound."""
    incident = Incident.objects.select_related("case").filter(pk=incident_id).first()
    if incident is None:
        raise NotFound(f"no incident {incident_id}")
    return incident


def active(incident_id: int) -> Incident:
    """The incident, refused (409) once it is stood down."""
    incident = get(incident_id)
    if incident.state != IncidentState.DECLARED:
        raise TransitionRefused(f"incident {incident_id} is stood down")
    return incident


def stand_down(incident_id: int, actor: Actor, note: str = "") -> Incident:
    """Stand the incident down: walls return to peacetime; the report can be drawn up."""
    now = timezone.now()
    with transaction.atomic():
        changed = Incident.objects.filter(pk=incident_id, state=IncidentState.DECLARED).update(
            state=IncidentState.STOOD_DOWN, stood_down_at=now
        )
        incident = get(incident_id)
        if not changed:
            raise TransitionRefused(f"incident {incident_id} is already stood down")
        record(incident, actor.label, "stood_down", note, at=now)
        data = incident_dict(incident)
        publish_on_commit("incidents", "incident.stood_down", data)
        publish_on_commit(topic(incident), "incident.stood_down", data)
    return incident


def note(incident_id: int, actor: Actor, text: str, kind: str = "note", data: dict[str, Any] | None = None):
    """Write a note (or a conference / camera action taken through the calls API) on the timeline."""
    with transaction.atomic():
        return record(active(incident_id), actor.label, kind, text, data)
