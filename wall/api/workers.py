"""Live field endpoints: nearest workers, live state, dispatch orders, duty, patrol figures, geofences."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from django.http import HttpRequest
from django.utils import timezone
from ninja import Query, Router, Schema
from ninja.responses import Status
from pydantic import Field
from shapely.geometry import shape

from dispatchd import dispatching
from dispatchd.errors import InvalidInput, NotAllowed, NotFound
from dispatchd.field.live import current_state, ensure_known, live_store
from dispatchd.field.patrol import patrol_day
from dispatchd.field.state import OFF_DUTY, ON_DUTY
from dispatchd.geo.roads import road_graph
from dispatchd.models import DispatchOrder, Geofence, Worker
from wall.api.base import BearerOrSession, api
from wall.api.roles import COMMANDERS, READERS, require
from wall.api.schemas import Id, Lat, Lon, Strict, Text

router = Router(tags=["workers"])


class NearestQuery(Schema):
    lat: Lat
    lon: Lon
    k: int = Field(default=5, ge=1, le=100)
    skill: Text(32) | None = None
    department: Id | None = None
    available: bool = True
    max_km: float | None = Field(default=None, gt=0, le=1000, allow_inf_nan=False)


class NearestOut(Schema):
    worker_id: int
    code: str
    name: str
    lat: float
    lon: float
    status: str
    skills: list[str]
    department_id: int | None
    grid_id: int | None
    distance_m: float
    eta_s: float = Field(description="by road when ranked_by is road and the worker is reachable, else straight line")
    route_m: float | None = Field(description="length of the road route (null: straight-line ranking or unreachable)")
    ranked_by: str = Field(description="road (travel time over the configured road graph) or straight_line")
    reachable: bool | None = Field(description="false: no road route from the worker (ranked last); null: no graph")


POOL_FACTOR = 4  # the road ranking re-orders this many times k straight-line nearest workers


@router.get(
    "/workers/nearest",
    response=list[NearestOut],
    summary="k nearest workers matching the filters",
    auth=BearerOrSession(roles=("wall", *COMMANDERS)),
)
def nearest(request: HttpRequest, q: Query[NearestQuery]):
    graph = road_graph()
    found = dispatching.recommend(
        q.lat, q.lon, q.k * POOL_FACTOR if graph else q.k, skill=q.skill, department=q.department,
        available=True if q.available else None, max_km=q.max_km,
    )
    names = dict(
        (w_id, (code, name))
        for w_id, code, name in Worker.objects.filter(pk__in=[r.state.worker_id for r in found]).values_list(
            "pk", "code", "name"
        )
    )

    def row(rec: dispatching.Recommendation, **extra) -> dict:
        code, name = names.get(rec.state.worker_id, ("", ""))
        return {**rec.to_dict(), "code": code, "name": name, **extra}

    if graph is None:
        return [row(rec, route_m=None, ranked_by="straight_line", reachable=None) for rec in found]
    ranks = graph.rank(q.lat, q.lon, [(r.state.lat, r.state.lon) for r in found],
                       [r.state.worker_id for r in found], q.k)
    out = []
    for rank in ranks:
        rec = found[rank.index]
        if rank.eta_s is None:
            out.append(row(rec, route_m=None, ranked_by="road", reachable=False))
        else:
            out.append(row(rec, eta_s=round(rank.eta_s, 1), route_m=round(rank.route_m, 1), ranked_by="road",
                           reachable=True))
    return out


class LiveOut(Schema):
    worker_id: int
    status: str
    duty: str
    busy: bool
    case_id: int | None
    lat: float | None
    lon: float | None
    t: float | None = Field(description="epoch seconds of the live position")
    accuracy_m: float | None
    speed_mps: float | None
    heading: float | None
    skills: list[str]
    department: int | None
    grid_id: int | None


@router.get("/workers/live", response=list[LiveOut], summary="Live state of every worker")
def live_all(request: HttpRequest):
    require(request, *READERS)
    store = live_store()
    store.sync()
    return [s.to_dict() for s in sorted(store.states(), key=lambda s: s.worker_id)]


def _own(request: HttpRequest, worker_id: int, *roles: str):
    actor = require(request, *roles)
    if actor.role == "worker" and actor.worker_id != worker_id:
        raise NotAllowed("a worker may act only on its own record")
    if not Worker.objects.filter(pk=worker_id).exists():
        raise NotFound(f"no worker {worker_id}")
    return actor


@router.get("/workers/{worker_id}/live", response=LiveOut, summary="Live state of one worker")
def live_one(request: HttpRequest, worker_id: Id):
    _own(request, worker_id, *READERS)
    state = current_state(live_store(), worker_id)
    if state is None:  # deleted since _own looked
        raise NotFound(f"no worker {worker_id}")
    return state.to_dict()


class DutyIn(Strict):
    duty: str = Field(pattern=f"^({ON_DUTY}|{OFF_DUTY})$")


@router.post("/workers/{worker_id}/duty", response=LiveOut, summary="Sign on or off duty")
def duty(request: HttpRequest, worker_id: Id, body: DutyIn):
    _own(request, worker_id, "worker", *COMMANDERS)
    store = live_store()
    ensure_known(store, [worker_id])
    Worker.objects.filter(pk=worker_id).exclude(state="busy").update(state=body.duty)
    return store.update(worker_id, duty=body.duty).to_dict()


class OrderOut(Schema):
    id: int
    case_id: int
    case_number: str
    title: str
    lat: float
    lon: float
    address: str
    worker_id: int
    state: str
    attempt: int
    distance_m: float | None
    offered_at: str
    expires_at: str
    responded_at: str | None


@router.get("/workers/{worker_id}/orders", response=list[OrderOut], summary="A worker's dispatch orders")
def orders(request: HttpRequest, worker_id: Id, state: Text(16) | None = None):
    _own(request, worker_id, *READERS)
    query = DispatchOrder.objects.select_related("case").filter(worker_id=worker_id).order_by("-offered_at")
    if state:
        query = query.filter(state=state)
    return [dispatching.order_dict(o) for o in query[:200]]


class AnswerIn(Strict):
    note: Text(200) = ""


@router.post("/workers/{worker_id}/orders/{order_id}/accept", response=OrderOut, summary="Accept an order")
def accept(request: HttpRequest, worker_id: Id, order_id: Id, body: AnswerIn | None = None):
    actor = _own(request, worker_id, "worker", *COMMANDERS)
    return dispatching.order_dict(dispatching.accept(order_id, worker_id, actor))


@router.post("/workers/{worker_id}/orders/{order_id}/decline", response=OrderOut, summary="Decline an order")
def decline(request: HttpRequest, worker_id: Id, order_id: Id, body: AnswerIn | None = None):
    actor = _own(request, worker_id, "worker", *COMMANDERS)
    note = body.note if body else ""
    return dispatching.order_dict(dispatching.decline(order_id, worker_id, actor, note))


class PatrolOut(Schema):
    worker_id: int
    day: str
    fixes: int
    on_duty_s: float
    distance_m: float
    in_grid_s: float


PatrolDay = Annotated[date, Field(ge=date(2000, 1, 1), le=date(2100, 1, 1))]


@router.get("/workers/{worker_id}/patrol", response=PatrolOut, summary="Patrol figures of one day (巡查工作时长)")
def patrol(request: HttpRequest, worker_id: Id, day: PatrolDay | None = None):
    _own(request, worker_id, *READERS)
    return patrol_day(worker_id, day or timezone.localdate()).to_dict()


class GeofenceIn(Strict):
    name: Text(64, 1)
    polygon: dict
    workers: list[Id] = Field(default_factory=list, max_length=1000)
    alarm_after_min: float | None = Field(default=None, gt=0, le=24 * 60, allow_inf_nan=False)


class GeofenceOut(Schema):
    id: int
    name: str
    polygon: dict
    workers: list[int]
    alarm_after_min: float | None
    active: bool


def _fence_dict(fence: Geofence) -> dict:
    return {
        "id": fence.id, "name": fence.name, "polygon": fence.polygon, "alarm_after_min": fence.alarm_after_min,
        "active": fence.active, "workers": sorted(w.id for w in fence.workers.all()),
    }


@router.get("/geofences", response=list[GeofenceOut], summary="Operator geofences")
def geofences(request: HttpRequest):
    require(request, *READERS)
    return [_fence_dict(f) for f in Geofence.objects.prefetch_related("workers").order_by("id")]


@router.post("/geofences", response={201: GeofenceOut}, summary="Draw a geofence")
def create_geofence(request: HttpRequest, body: GeofenceIn):
    require(request, *COMMANDERS)
    try:
        polygon = shape(body.polygon)
    except Exception as exc:  # shapely raises several types for malformed GeoJSON
        raise InvalidInput({"polygon": f"not a GeoJSON geometry: {exc}"}) from exc
    if polygon.geom_type != "Polygon" or not polygon.is_valid or polygon.is_empty:
        raise InvalidInput({"polygon": "a valid GeoJSON Polygon (lon/lat)"})
    known = set(Worker.objects.filter(pk__in=body.workers).values_list("pk", flat=True))
    if missing := sorted(set(body.workers) - known):
        raise InvalidInput({"workers": f"unknown workers: {missing[:20]}"})
    fence = Geofence.objects.create(name=body.name, polygon=body.polygon, alarm_after_min=body.alarm_after_min)
    fence.workers.set(body.workers)
    return Status(201, _fence_dict(fence))


api.add_router("/", router)
