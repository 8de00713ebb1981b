"""Alarm actions (acknowledge, clear) and the sensor alarm rules; the alarm list is in field.py."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Schema

from dispatchd.models import AlarmRule
from dispatchd.sensors import alarms
from wall.api.base import api
from wall.api.field import AlarmOut
from wall.api.roles import COMMANDERS, READERS, require
from wall.api.schemas import Id, Strict, Text

router = Router(tags=["alarms"])


class AlarmActionIn(Strict):
    note: Text(500) = ""


class AlarmRuleOut(Schema):
    id: int
    name: str
    sensor_type: str
    sensor_id: int | None
    comparison: str
    threshold: float
    clear_threshold: float | None
    duration_min: float
    repeat: int
    severity: str
    case_category: str
    offline_after_min: float | None
    active: bool


@router.post("/alarms/{alarm_id}/acknowledge", response=AlarmOut, summary="Acknowledge a raised alarm")
def acknowledge(request: HttpRequest, alarm_id: Id, body: AlarmActionIn | None = None):
    actor = require(request, *COMMANDERS)
    return alarms.acknowledge(alarm_id, actor, body.note if body else "")


@router.post("/alarms/{alarm_id}/clear", response=AlarmOut, summary="Clear a raised or acknowledged alarm")
def clear(request: HttpRequest, alarm_id: Id, body: AlarmActionIn | None = None):
    actor = require(request, *COMMANDERS)
    return alarms.clear(alarm_id, actor, body.note if body else "")


@router.get("/alarm-rules", response=list[AlarmRuleOut], summary="Sensor alarm rules")
def alarm_rules(request: HttpRequest):
    require(request, *READERS)
    return list(AlarmRule.objects.order_by("id"))


api.add_router("/", router)
