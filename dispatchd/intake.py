"""Case intake: validate a report from any source, place it, number it, time it, announce it."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from dispatchd import sla
from dispatchd.actors import Actor
from dispatchd.errors import InvalidInput, NotAllowed
from dispatchd.events import publish_case
from dispatchd.geo.distance import valid_point
from dispatchd.geo.gridindex import locate
from dispatchd.models import Case, CaseEvent, CaseStatus, Category
from dispatchd.models.cases import Source
from dispatchd.models.catalog import Severity
from dispatchd.numbering import next_number
from dispatchd.rules.duplicates import find_duplicates

REPORTING_ROLES = {"commander", "admin", "worker", "device", "system"}


@dataclass
class Report:
    """What a reporter tells us about a new case."""

    title: str
    category: int | str
    lat: float
    lon: float
    source: str = Source.HOTLINE
    description: str = ""
    address: str = ""
    severity: str | None = None
    urgent: bool = False
    reporter: str = ""
    reporter_phone: str = ""
    external_id: str = ""


def resolve_category(ref: int | str) -> Category:
    """A 小类 by id or code; 大类 cannot be used on a case."""
    query = Category.objects.select_related("parent")
    category = query.filter(pk=ref).first() if isinstance(ref, int) else query.filter(code=ref).first()
    if category is None:
        raise InvalidInput({"category": f"unknown category {ref!r}"})
    if category.parent_id is None:
        raise InvalidInput({"category": f"{category.code} is a 大类; choose one of its 小类"})
    return category


def create_case(report: Report, actor: Actor) -> Case:
    """Register a reported case (status 上报) and return it."""
    if actor.role not in REPORTING_ROLES:
        raise NotAllowed(f"role {actor.role} may not report cases")
    if not valid_point(report.lat, report.lon):
        raise InvalidInput({"lat/lon": "coordinates out of range"})
    if report.source not in Source.values:
        raise InvalidInput({"source": f"one of {', '.join(Source.values)}"})
    if report.severity is not None and report.severity not in Severity.values:
        raise InvalidInput({"severity": f"one of {', '.join(Severity.values)}"})
    if not report.title.strip():
        raise InvalidInput({"title": "must not be empty"})
    category = resolve_category(report.category)
    place = locate(report.lat, report.lon)
    now = timezone.now()
    with transaction.atomic():
        case = Case(
            number=next_number(now),
            title=report.title.strip(),
            description=report.description,
            source=report.source,
            category=category,
            severity=report.severity or category.default_severity,
            urgent=report.urgent,
            lat=report.lat,
            lon=report.lon,
            address=report.address,
            grid_id=place.grid_id,
            community_id=place.community_id,
            street_id=place.street_id,
            outside_area=place.grid_id is None,
            reporter=report.reporter,
            reporter_phone=report.reporter_phone,
            external_id=report.external_id,
            status=CaseStatus.REPORTED,
        )
        for field, value in sla.timer_for(case, CaseStatus.REPORTED, now).items():
            setattr(case, field, value)
        case.save()
        case.duplicate_candidates = find_duplicates(category.id, case.lat, case.lon, now, exclude_id=case.id)
        if case.duplicate_candidates:
            Case.objects.filter(pk=case.pk).update(duplicate_candidates=case.duplicate_candidates)
        data = {"source": case.source, "grid_id": case.grid_id}
        if case.outside_area:
            data["outside_area"] = True
        if case.duplicate_candidates:
            data["duplicates"] = case.duplicate_candidates
        CaseEvent.objects.create(
            case=case, actor=actor.label, action="report", from_status="", to_status=case.status, data=data
        )
        publish_case(case, "created")
    return case
