"""Validated request and response shapes of the API."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from django.utils import timezone
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from dispatchd.models.cases import Source
from dispatchd.models.catalog import Severity


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


def Text(max_length: int, min_length: int = 0):  # noqa: N802 - reads like a type
    """A string of bounded length without NUL characters (PostgreSQL refuses them)."""
    return Annotated[
        str, StringConstraints(max_length=max_length, min_length=min_length), AfterValidator(_no_nul)
    ]


def _sane_moment(value: datetime) -> datetime:
    if value.tzinfo is None:
        value = timezone.make_aware(value)
    offset = value.utcoffset() or timedelta(0)
    if abs(offset) > MAX_UTC_OFFSET:
        raise ValueError("the UTC offset must lie within ±14:00")
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise ValueError(f"the year must lie between {MIN_YEAR} and {MAX_YEAR}")
    return value


MAX_UTC_OFFSET = timedelta(hours=14)
MIN_YEAR, MAX_YEAR = 1900, 2999
# A point in time the database can store and compare: aware (naive means local time), real offset, sane year.
Moment = Annotated[datetime, AfterValidator(_sane_moment)]

Lat = Annotated[float, Field(ge=-90, le=90, allow_inf_nan=False)]
Lon = Annotated[float, Field(ge=-180, le=180, allow_inf_nan=False)]
Id = Annotated[int, Field(ge=1, le=2**53)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CaseIn(Strict):
    title: Text(200, 1)
    category: Id | Text(16, 1) = Field(description="小类 id or code")
    lat: Lat
    lon: Lon
    source: Source = Source.HOTLINE
    description: Text(4000) = ""
    address: Text(200) = ""
    severity: Severity | None = None
    urgent: bool = False
    reporter: Text(64) = ""
    reporter_phone: Text(32) = ""
    external_id: Text(64) = ""


class ActionIn(Strict):
    note: Text(2000) = ""
    department: Id | None = None
    assist_departments: list[Id] = Field(default_factory=list, max_length=20)
    worker: Id | None = None
    into: Id | Text(20) | None = Field(default=None, description="case id or number to merge into")
    passed: bool | None = None
    hours: Annotated[float, Field(gt=0, le=720, allow_inf_nan=False)] | None = None
    score: Annotated[int, Field(ge=1, le=5)] | None = None
    severity: Severity | None = None
    urgent: bool | None = None
    attachments: list[Id] = Field(default_factory=list, max_length=50)
    skill: Text(32) | None = Field(default=None, description="skill the dispatched worker needs (fallback filter)")

    def params(self) -> dict[str, Any]:
        """The fields that were given, for the workflow."""
        return self.model_dump(exclude_none=True)


class CaseOut(BaseModel):
    id: int
    number: str
    title: str
    description: str
    source: str
    category_id: int
    category: str | None
    severity: str
    urgent: bool
    lat: float
    lon: float
    address: str
    grid_id: int | None
    community_id: int | None
    street_id: int | None
    outside_area: bool
    status: str
    department_id: int | None
    assist_department_ids: list[int]
    worker_id: int | None
    dispatch_level: int
    merged_into_id: int | None
    duplicate_candidates: list[dict[str, Any]]
    rework_count: int
    supervise_count: int
    extension_pending_hours: float | None
    evaluation: int | None
    stage: str
    sla_state: str
    warn_at: str | None
    deadline: str | None
    escalate_at: str | None
    created_at: str | None
    updated_at: str | None
    closed_at: str | None
    version: int


class CaseDetailOut(CaseOut):
    allowed_actions: list[str]


class CaseListOut(BaseModel):
    count: int
    items: list[CaseOut]


class TimelineOut(BaseModel):
    id: int
    at: str | None
    actor: str
    action: str
    from_status: str
    to_status: str
    note: str
    data: dict[str, Any]


class PositionIn(Strict):
    worker_id: Id
    lat: Lat
    lon: Lon
    at: Moment
    accuracy_m: Annotated[float, Field(ge=0, le=100_000, allow_inf_nan=False)] | None = None
    speed_mps: Annotated[float, Field(ge=0, le=100, allow_inf_nan=False)] | None = None
    heading: Annotated[float, Field(ge=0, le=360, allow_inf_nan=False)] | None = None


class PositionBatchIn(Strict):
    items: list[PositionIn] = Field(min_length=1, max_length=5000)


class ReadingIn(Strict):
    sensor: Text(32, 1) = Field(description="sensor code")
    at: Moment
    value: Annotated[float, Field(allow_inf_nan=False, ge=-1e9, le=1e9)]


class ReadingBatchIn(Strict):
    items: list[ReadingIn] = Field(min_length=1, max_length=5000)


class IngestOut(BaseModel):
    accepted: int
    duplicates: int


class TrailPoint(BaseModel):
    at: str
    lat: float
    lon: float
    accuracy_m: float | None
    speed_mps: float | None
    heading: float | None


class AttachmentOut(BaseModel):
    id: int
    name: str
    content_type: str
    size: int
    url: str
