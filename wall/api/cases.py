"""Case endpoints: create, list with filters, detail, timeline, actions, attachments."""

from __future__ import annotations

from urllib.parse import quote

from django.db.models import Q
from django.http import FileResponse, HttpRequest
from ninja import File, Query, Router, Schema
from ninja.files import UploadedFile
from ninja.responses import Status
from pydantic import Field

from dispatchd import workflow
from dispatchd.errors import InvalidInput, NotAllowed, NotFound
from dispatchd.intake import Report, create_case
from dispatchd.models import Attachment, Case, CaseStatus
from dispatchd.models.cases import SlaState, Source
from dispatchd.models.catalog import Severity
from dispatchd.serialize import case_dict, event_dict
from wall.api.base import api
from wall.api.roles import COMMANDERS, READERS, require
from wall.api.schemas import (
    ActionIn,
    AttachmentOut,
    CaseDetailOut,
    CaseIn,
    CaseListOut,
    CaseOut,
    Id,
    Moment,
    Text,
    TimelineOut,
)
from wall.api.uploads import check_upload

router = Router(tags=["cases"])


class CaseFilter(Schema):
    status: list[CaseStatus] = Field(default_factory=list, max_length=12)
    category: Id | None = None
    street: Id | None = None
    grid: Id | None = None
    severity: Severity | None = None
    source: Source | None = None
    overdue: bool | None = None
    bbox: str | None = Field(default=None, max_length=100, description="min_lon,min_lat,max_lon,max_lat")
    q: Text(100) | None = None
    since: Moment | None = None
    limit: int = Field(default=100, ge=1, le=1000)
    offset: int = Field(default=0, ge=0, le=10_000_000)


def _bbox(value: str) -> tuple[float, float, float, float]:
    try:
        min_lon, min_lat, max_lon, max_lat = (float(p) for p in value.split(","))
    except ValueError:
        raise InvalidInput({"bbox": "four numbers: min_lon,min_lat,max_lon,max_lat"}) from None
    if not (-180 <= min_lon <= max_lon <= 180 and -90 <= min_lat <= max_lat <= 90):
        raise InvalidInput({"bbox": "min must not exceed max, and coordinates must be in range"})
    return min_lon, min_lat, max_lon, max_lat


def visible_cases(actor) -> Q:
    """Which cases a caller may see: a worker only those assigned to them."""
    return Q(worker_id=actor.worker_id) if actor.role == "worker" else Q()


def _get(request: HttpRequest, case_id: int) -> Case:
    actor = require(request, *READERS)
    case = Case.objects.select_related("category").filter(visible_cases(actor), pk=case_id).first()
    if case is None:
        raise NotFound(f"no case {case_id}")
    return case


@router.post("/cases", response={201: CaseOut}, summary="Report a case from any source")
def create(request: HttpRequest, body: CaseIn):
    actor = request.auth
    report = Report(**body.model_dump(mode="python"))
    case = create_case(report, actor)
    return Status(201, case_dict(case))


@router.get("/cases", response=CaseListOut, summary="List cases with filters")
def list_cases(request: HttpRequest, filters: Query[CaseFilter]):
    actor = require(request, *READERS)
    query = Case.objects.select_related("category").prefetch_related("assist_departments")
    query = query.filter(visible_cases(actor))
    if filters.status:
        query = query.filter(status__in=filters.status)
    for name in ("category", "street", "grid"):
        if getattr(filters, name) is not None:
            query = query.filter(**{f"{name}_id": getattr(filters, name)})
    if filters.severity:
        query = query.filter(severity=filters.severity)
    if filters.source:
        query = query.filter(source=filters.source)
    if filters.overdue is True:
        query = query.filter(sla_state__in=(SlaState.OVERDUE, SlaState.ESCALATED))
    elif filters.overdue is False:
        query = query.exclude(sla_state__in=(SlaState.OVERDUE, SlaState.ESCALATED))
    if filters.bbox:
        min_lon, min_lat, max_lon, max_lat = _bbox(filters.bbox)
        query = query.filter(lat__range=(min_lat, max_lat), lon__range=(min_lon, max_lon))
    if filters.q:
        query = query.filter(
            Q(title__icontains=filters.q)
            | Q(description__icontains=filters.q)
            | Q(number__icontains=filters.q)
            | Q(address__icontains=filters.q)
        )
    if filters.since:
        query = query.filter(updated_at__gte=filters.since)
    count = query.count()
    page = query.order_by("-created_at", "-id")[filters.offset : filters.offset + filters.limit]
    return {"count": count, "items": [case_dict(c) for c in page]}


@router.get("/cases/{case_id}", response=CaseDetailOut, summary="One case, with the actions allowed now")
def detail(request: HttpRequest, case_id: Id):
    case = _get(request, case_id)
    return {**case_dict(case), "allowed_actions": workflow.allowed_actions(case)}


@router.get("/cases/{case_id}/timeline", response=list[TimelineOut], summary="The case's timeline")
def timeline(request: HttpRequest, case_id: Id):
    case = _get(request, case_id)
    return [event_dict(e) for e in case.timeline.all()]


@router.post(
    "/cases/{case_id}/actions/{action}",
    response=CaseOut,
    summary="Take an action of the case loop",
    description="Actions: " + ", ".join(f"`{a.name}` ({a.label})" for a in workflow.ACTIONS.values()),
)
def act(request: HttpRequest, case_id: Id, action: Text(32), body: ActionIn | None = None):
    actor = request.auth
    if actor.role not in ("commander", "admin", "worker"):
        raise NotAllowed(f"role {actor.role} may not act on cases")
    case = workflow.perform(case_id, action, actor, body.params() if body else {})
    return case_dict(case)


@router.post("/cases/{case_id}/attachments", response={201: AttachmentOut}, summary="Attach a photo or file")
def attach(request: HttpRequest, case_id: Id, file: File[UploadedFile]):
    actor = require(request, *COMMANDERS, "worker")
    case = _get(request, case_id)
    if actor.role == "worker" and case.worker_id != actor.worker_id:
        raise NotAllowed("a worker may attach only to cases assigned to them")
    check_upload(file)
    name = (file.name or "upload").replace("\x00", "")[-200:]
    attachment = workflow.attach(case, actor, name, file.content_type, file)
    return Status(201, _attachment_dict(attachment))


def _attachment_dict(attachment: Attachment) -> dict:
    return {
        "id": attachment.id,
        "name": attachment.name,
        "content_type": attachment.content_type,
        "size": attachment.size,
        "url": f"/api/attachments/{attachment.id}",
    }


@router.get("/cases/{case_id}/attachments", response=list[AttachmentOut], summary="Attachments of a case")
def attachments(request: HttpRequest, case_id: Id):
    case = _get(request, case_id)
    return [_attachment_dict(a) for a in case.attachments.order_by("id")]


@router.get("/attachments/{attachment_id}", summary="Download an attachment", response={200: None})
def download(request: HttpRequest, attachment_id: Id):
    actor = require(request, *READERS)
    attachment = Attachment.objects.filter(pk=attachment_id, case__in=Case.objects.filter(visible_cases(actor)))
    attachment = attachment.first()
    if attachment is None:
        raise NotFound(f"no attachment {attachment_id}")
    response = FileResponse(attachment.file.open("rb"), content_type=attachment.content_type)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(attachment.name)}"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'"
    return response


api.add_router("/", router)
