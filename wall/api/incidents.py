"""War room (平战结合): declare an incident, act on it (dispatch, broadcast, notes), stand down, report."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from django.http import HttpRequest, HttpResponse
from ninja import Router, Schema
from ninja.responses import Status
from pydantic import Field

from dispatchd.incidents import broadcast as broadcasts
from dispatchd.incidents import command
from dispatchd.incidents import report as reports
from dispatchd.incidents.dispatch import MAX_N, dispatch_nearest
from dispatchd.incidents.nearby import nearby as nearby_of
from dispatchd.incidents.timeline import action_dict
from dispatchd.models import Incident, IncidentLevel, IncidentState
from wall.api.base import BearerOrSession, api
from wall.api.roles import COMMANDERS, READERS, require
from wall.api.schemas import Id, Lat, Lon, Strict, Text

router = Router(tags=["incidents"])
VIEWERS = BearerOrSession(roles=("wall", *COMMANDERS))
ACTORS = BearerOrSession(roles=COMMANDERS)
Ring = Annotated[int, Field(ge=10, le=command.MAX_RING_M)]


class IncidentIn(Strict):
    case_id: Id | None = Field(default=None, description="raise this case to an incident")
    title: Text(200) = Field(default="", description="required without case_id")
    lat: Lat | None = None
    lon: Lon | None = None
    category: Id | Text(16, 1) | None = Field(default=None, description="小类 of the incident's case, without case_id")
    address: Text(200) = ""
    level: Annotated[int, Field(ge=1, le=4)] = IncidentLevel.II
    rings_m: list[Ring] = Field(default_factory=lambda: [500, 1000, 3000], min_length=1, max_length=command.MAX_RINGS)
    commander: Text(64) = Field(default="", description="commander in charge (default: the caller)")


class IncidentOut(Schema):
    id: int
    title: str
    level: int
    level_label: str
    lat: float
    lon: float
    rings_m: list[int]
    commander: str
    case_id: int | None
    case_number: str | None
    state: str
    topic: str
    declared_by: str
    declared_at: str
    stood_down_at: str | None


class ActionOut(Schema):
    id: int
    incident_id: int
    at: str
    actor: str
    kind: str
    text: str
    data: dict[str, Any]


class ResponderOut(Schema):
    worker_id: int
    worker_code: str
    worker_name: str
    order_id: int | None
    distance_m: float | None
    dispatched_at: str | None
    order_state: str
    acknowledged_at: str | None
    ack_s: float | None
    arrived_at: str | None
    arrival_s: float | None


class ReceiptOut(Schema):
    worker_id: int
    distance_m: float
    delivered_at: str
    read_at: str | None


class BroadcastOut(Schema):
    id: int
    incident_id: int
    ring_m: int
    text: str
    sent_by: str
    sent_at: str
    receipts: list[ReceiptOut]
    delivered: int
    read: int


class IncidentDetailOut(IncidentOut):
    actions: list[ActionOut]
    responders: list[ResponderOut]
    broadcasts: list[BroadcastOut]


class NearbyOut(Schema):
    workers: list[dict[str, Any]]
    cameras: list[dict[str, Any]]
    sensors: list[dict[str, Any]]
    resources: list[dict[str, Any]]


class DispatchIn(Strict):
    n: Annotated[int, Field(ge=1, le=MAX_N)] = 3
    skill: Text(32) | None = None


class OrderOut(Schema):
    id: int
    case_id: int
    worker_id: int
    state: str
    distance_m: float | None
    offered_at: str
    expires_at: str


class DispatchOut(Schema):
    orders: list[OrderOut]


class BroadcastIn(Strict):
    ring_m: Ring
    text: Text(500, 1)


class NoteIn(Strict):
    text: Text(500) = ""
    kind: Literal["note", "conference", "camera"] = "note"
    call_id: Text(64) | None = Field(default=None, description="the calls API session (kind conference/camera)")
    camera_id: Id | None = None


class StandDownIn(Strict):
    note: Text(500) = ""


class ReadOut(Schema):
    broadcast_id: int
    worker_id: int
    read_at: str


@router.post("/incidents", response={201: IncidentOut}, summary="Declare an incident (from a case, or directly)",
             auth=ACTORS)
def declare(request: HttpRequest, body: IncidentIn):
    actor = require(request, *COMMANDERS)
    declaration = command.Declaration(**body.model_dump())
    return Status(201, command.incident_dict(command.declare(declaration, actor)))


@router.get("/incidents", response=list[IncidentOut], summary="Incidents, newest first")
def incidents(request: HttpRequest, state: IncidentState | None = None,
              limit: Annotated[int, Field(ge=1, le=200)] = 50):
    require(request, *READERS)
    query = Incident.objects.select_related("case").order_by("-declared_at", "-id")
    if state:
        query = query.filter(state=state)
    return [command.incident_dict(i) for i in query[:limit]]


@router.get("/incidents/{incident_id}", response=IncidentDetailOut, summary="An incident with its timeline",
            auth=VIEWERS)
def detail(request: HttpRequest, incident_id: Id):
    incident = command.get(incident_id)
    return {
        **command.incident_dict(incident),
        "actions": [action_dict(a) for a in incident.actions.order_by("at", "id")],
        "responders": reports.responders(incident),
        "broadcasts": [broadcasts.broadcast_dict(b) for b in broadcasts.sent(incident.id)],
    }


@router.get("/incidents/{incident_id}/nearby", response=NearbyOut, auth=VIEWERS,
            summary="Workers, cameras, sensors and resources inside the rings, by ring")
def nearby(request: HttpRequest, incident_id: Id):
    return nearby_of(command.get(incident_id))


@router.post("/incidents/{incident_id}/dispatch-nearest", response=DispatchOut, auth=ACTORS,
             summary="Dispatch the nearest N available workers (one order each, on user.<id>)")
def dispatch(request: HttpRequest, incident_id: Id, body: DispatchIn):
    actor = require(request, *COMMANDERS)
    return {"orders": dispatch_nearest(incident_id, body.n, actor, body.skill)}


@router.post("/incidents/{incident_id}/broadcast", response={201: BroadcastOut}, auth=ACTORS,
             summary="Send an order to every worker inside a ring (incident.broadcast on user.<id>)")
def broadcast(request: HttpRequest, incident_id: Id, body: BroadcastIn):
    actor = require(request, *COMMANDERS)
    return Status(201, broadcasts.broadcast_dict(broadcasts.broadcast(incident_id, body.ring_m, body.text, actor)))


@router.get("/incidents/{incident_id}/broadcasts", response=list[BroadcastOut],
            summary="Broadcasts of an incident (a worker sees only those sent to it)")
def broadcast_list(request: HttpRequest, incident_id: Id):
    actor = require(request, *READERS)
    query = broadcasts.sent(command.get(incident_id).id)
    if actor.role == "worker":
        query = query.filter(receipts__worker_id=actor.worker_id or 0)
    items = [broadcasts.broadcast_dict(b) for b in query]
    if actor.role == "worker":
        for item in items:
            item["receipts"] = [r for r in item["receipts"] if r["worker_id"] == actor.worker_id]
    return items


@router.post("/incidents/{incident_id}/broadcasts/{broadcast_id}/read", response=ReadOut,
             summary="A worker has read a broadcast sent to it", auth=BearerOrSession(roles=("worker",)))
def read(request: HttpRequest, incident_id: Id, broadcast_id: Id):
    receipt = broadcasts.mark_read(incident_id, broadcast_id, request.auth)
    return {"broadcast_id": broadcast_id, "worker_id": receipt.worker_id, "read_at": receipt.read_at.isoformat()}


@router.post("/incidents/{incident_id}/notes", response={201: ActionOut}, auth=ACTORS,
             summary="Write a note, or a conference / camera action, on the timeline")
def notes(request: HttpRequest, incident_id: Id, body: NoteIn):
    actor = require(request, *COMMANDERS)
    data = body.model_dump(include={"call_id", "camera_id"}, exclude_none=True)
    return Status(201, action_dict(command.note(incident_id, actor, body.text, body.kind, data)))


@router.post("/incidents/{incident_id}/stand-down", response=IncidentOut, auth=ACTORS,
             summary="Stand down: walls return to peacetime")
def stand_down(request: HttpRequest, incident_id: Id, body: StandDownIn | None = None):
    actor = require(request, *COMMANDERS)
    return command.incident_dict(command.stand_down(incident_id, actor, body.note if body else ""))


@router.get("/incidents/{incident_id}/report", auth=VIEWERS,
            summary="The incident report: JSON, or format=csv|xlsx|pdf for a file")
def report(request: HttpRequest, incident_id: Id, format: Literal["json", "csv", "xlsx", "pdf"] = "json"):
    data = reports.report(incident_id)
    if format == "json":
        return data
    if format == "csv":
        body, kind = reports.to_csv(data), "text/csv; charset=utf-8"
    elif format == "pdf":
        body, kind = reports.to_pdf(data), "application/pdf"
    else:
        body, kind = reports.to_xlsx(data), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    response = HttpResponse(body, content_type=kind)
    response["Content-Disposition"] = f'attachment; filename="incident-{incident_id}-report.{format}"'
    return response


api.add_router("/", router)
