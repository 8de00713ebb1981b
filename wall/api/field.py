"""Field endpoints: positions and sensor readings (batch ingest), workers, trails, sensors, cameras, alarms."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from django.http import HttpRequest
from ninja import Query, Router, Schema
from pydantic import Field

from dispatchd import ingest
from dispatchd.errors import NotAllowed, NotFound
from dispatchd.field.trail import trail as read_trail
from dispatchd.models import Alarm, Camera, Sensor, Worker
from wall.api.base import api
from wall.api.roles import COMMANDERS, READERS, require
from wall.api.schemas import Id, IngestOut, Moment, PositionBatchIn, ReadingBatchIn, TrailPoint

router = Router(tags=["field"])


@router.post("/positions", response=IngestOut, summary="Batch ingest of worker positions")
def positions(request: HttpRequest, body: PositionBatchIn):
    actor = require(request, "worker", "device", *COMMANDERS)
    if actor.role == "worker" and any(item.worker_id != actor.worker_id for item in body.items):
        raise NotAllowed("a worker may publish only its own position")
    return ingest.store_positions([item.model_dump() for item in body.items])


@router.post("/sensors/readings", response=IngestOut, summary="Batch ingest of sensor readings")
def readings(request: HttpRequest, body: ReadingBatchIn):
    require(request, "device", *COMMANDERS)
    return ingest.store_readings([item.model_dump() for item in body.items])


class WorkerOut(Schema):
    id: int
    code: str
    name: str
    grid_id: int | None
    department_id: int | None
    skills: list[str]
    state: str
    lat: float | None
    lon: float | None
    last_seen: datetime | None


@router.get("/workers", response=list[WorkerOut], summary="Field workers")
def workers(request: HttpRequest, department: Id | None = None, grid: Id | None = None):
    require(request, *READERS)
    query = Worker.objects.order_by("id")
    if department is not None:
        query = query.filter(department_id=department)
    if grid is not None:
        query = query.filter(grid_id=grid)
    return list(query)


class TrailQuery(Schema):
    start: Moment | None = Field(default=None, alias="from")
    end: Moment | None = Field(default=None, alias="to")
    limit: int = Field(default=5000, ge=1, le=50_000)


@router.get("/workers/{worker_id}/trail", response=list[TrailPoint], summary="A worker's track")
def trail(request: HttpRequest, worker_id: Id, q: Query[TrailQuery]):
    actor = require(request, *READERS)
    if actor.role == "worker" and actor.worker_id != worker_id:
        raise NotAllowed("a worker may read only its own trail")
    if not Worker.objects.filter(pk=worker_id).exists():
        raise NotFound(f"no worker {worker_id}")
    return read_trail(worker_id, q.start, q.end, max_points=q.limit)


class SensorOut(Schema):
    id: int
    code: str
    name: str
    type: str
    unit: str
    lat: float
    lon: float
    grid_id: int | None
    online: bool
    last_value: float | None
    last_seen: datetime | None


@router.get("/sensors", response=list[SensorOut], summary="Sensors")
def sensors(request: HttpRequest):
    require(request, *READERS)
    return list(Sensor.objects.order_by("id"))


class CameraOut(Schema):
    id: int
    gb_id: str
    device_id: str
    name: str
    lat: float | None
    lon: float | None
    grid_id: int | None
    online: bool
    codec: str
    ptz: bool


@router.get("/cameras", response=list[CameraOut], summary="Cameras")
def cameras(request: HttpRequest):
    require(request, *READERS)
    return list(Camera.objects.order_by("id"))


class AlarmOut(Schema):
    id: int
    kind: str
    state: str
    severity: str
    message: str
    sensor_id: int | None
    camera_id: int | None
    worker_id: int | None
    case_id: int | None
    lat: float | None
    lon: float | None
    value: float | None
    raised_at: datetime
    acknowledged_at: datetime | None
    cleared_at: datetime | None


class AlarmQuery(Schema):
    state: Literal["raised", "acknowledged", "cleared"] | None = None
    limit: int = Field(default=200, ge=1, le=2000)


@router.get("/alarms", response=list[AlarmOut], summary="Alarms, newest first")
def alarms(request: HttpRequest, q: Query[AlarmQuery]):
    require(request, *READERS)
    query = Alarm.objects.order_by("-raised_at", "-id")
    if q.state:
        query = query.filter(state=q.state)
    return list(query[: q.limit])


api.add_router("/", router)
