"""The alarm lifecycle, raised → acknowledged → cleared, announced on the `alarms` topic.

A sensor alarm whose rule names a case category also opens a case (source "sensor") at the sensor's
place, which puts it in the sensor's grid cell; the alarm links to that case.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from dispatchd.actors import Actor
from dispatchd.errors import DomainError, NotAllowed, NotFound, TransitionRefused
from dispatchd.events import publish_on_commit
from dispatchd.intake import Report, create_case
from dispatchd.models import Alarm, AlarmRule, Case, Comparison, RuleState, Sensor
from dispatchd.models.cases import Source

log = logging.getLogger("dispatchd.sensors")

SENSORS = Actor(name="sensors", role="system")  # the rule engine and the offline watch
THRESHOLD, OFFLINE = "sensor_threshold", "sensor_offline"  # Alarm.kind of the alarms raised here
RAISED, ACKNOWLEDGED, CLEARED = "raised", "acknowledged", "cleared"
OPERATOR_ROLES = {"commander", "admin", "system"}


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def alarm_dict(alarm: Alarm, **extra: Any) -> dict[str, Any]:
    """The data of an `alarm.*` event."""
    sensor = alarm.sensor if alarm.sensor_id else None
    return {
        "id": alarm.id, "kind": alarm.kind, "state": alarm.state, "severity": alarm.severity,
        "message": alarm.message, "sensor_id": alarm.sensor_id, "sensor_code": sensor.code if sensor else None,
        "grid_id": sensor.grid_id if sensor else None, "camera_id": alarm.camera_id, "worker_id": alarm.worker_id,
        "case_id": alarm.case_id, "lat": alarm.lat, "lon": alarm.lon, "value": alarm.value,
        "raised_at": _iso(alarm.raised_at), "acknowledged_at": _iso(alarm.acknowledged_at),
        "acknowledged_by": alarm.acknowledged_by, "cleared_at": _iso(alarm.cleared_at), **extra,
    }


def describe(rule: AlarmRule, sensor: Sensor, value: float) -> str:
    """The alarm message: which sensor, which rule, the value against the threshold."""
    sign = "≥" if rule.comparison == Comparison.ABOVE else "≤"
    unit = f" {sensor.unit}" if sensor.unit else ""
    lasting = f" for {rule.duration_min:g} min" if rule.duration_min else ""
    in_row = f", {rule.repeat} in a row" if rule.repeat > 1 else ""
    return f"{sensor.code} {rule.name}: {value:g}{unit} {sign} {rule.threshold:g}{unit}{lasting}{in_row}"[:200]


def open_case(alarm: Alarm, rule: AlarmRule, sensor: Sensor) -> Case | None:
    """Open the case a rule asks for at the sensor's place; None (logged) when intake refuses it."""
    report = Report(
        title=f"{sensor.name} {rule.name}"[:200], category=rule.case_category, lat=sensor.lat, lon=sensor.lon,
        source=Source.SENSOR, description=alarm.message, address=sensor.name, severity=rule.severity,
        urgent=rule.severity == "major", reporter=sensor.code, external_id=f"alarm-{alarm.id}",
    )
    try:
        with transaction.atomic():
            return create_case(report, SENSORS)
    except DomainError as exc:
        log.warning("alarm %s: no case opened for rule %r: %s", alarm.id, rule.name, exc.detail)
        return None


def raise_alarm(rule: AlarmRule, sensor: Sensor, value: float) -> Alarm:
    """Raise a threshold alarm of `rule` on `sensor`, open its case if the rule says so, announce it."""
    with transaction.atomic():
        alarm = Alarm.objects.create(
            kind=THRESHOLD, severity=rule.severity, message=describe(rule, sensor, value), sensor=sensor,
            lat=sensor.lat, lon=sensor.lon, value=value,
        )
        if rule.case_category and (case := open_case(alarm, rule, sensor)) is not None:
            alarm.case = case
            alarm.save(update_fields=["case"])
        publish_on_commit("alarms", "alarm.raised", alarm_dict(alarm, rule_id=rule.id))
    return alarm


def raise_offline(sensor: Sensor, silent_min: float) -> Alarm:
    """Raise the offline alarm of a silent sensor and announce it."""
    alarm = Alarm.objects.create(
        kind=OFFLINE, severity="normal", message=f"{sensor.code} silent for {silent_min:.0f} min", sensor=sensor,
        lat=sensor.lat, lon=sensor.lon, value=sensor.last_value,
    )
    publish_on_commit("alarms", "alarm.raised", alarm_dict(alarm))
    return alarm


def close(alarm: Alarm, actor: Actor, note: str = "") -> None:
    """Mark a locked, not yet cleared `alarm` cleared by `actor` and announce it."""
    alarm.state, alarm.cleared_at = CLEARED, timezone.now()
    alarm.save(update_fields=["state", "cleared_at"])
    publish_on_commit("alarms", "alarm.cleared", alarm_dict(alarm, cleared_by=actor.label, note=note))


def _locked(alarm_id: int, actor: Actor) -> Alarm:
    if actor.role not in OPERATOR_ROLES:
        raise NotAllowed(f"role {actor.role} may not handle alarms")
    alarm = Alarm.objects.select_for_update(of=("self",)).select_related("sensor").filter(pk=alarm_id).first()
    if alarm is None:
        raise NotFound(f"no alarm {alarm_id}")
    return alarm


def acknowledge(alarm_id: int, actor: Actor, note: str = "") -> Alarm:
    """raised → acknowledged; 409 from any other state."""
    with transaction.atomic():
        alarm = _locked(alarm_id, actor)
        if alarm.state != RAISED:
            raise TransitionRefused(f"alarm {alarm_id} is {alarm.state}; only a raised alarm can be acknowledged")
        alarm.state, alarm.acknowledged_at, alarm.acknowledged_by = ACKNOWLEDGED, timezone.now(), actor.label[:64]
        alarm.save(update_fields=["state", "acknowledged_at", "acknowledged_by"])
        publish_on_commit("alarms", "alarm.acknowledged", alarm_dict(alarm, note=note))
    return alarm


def clear(alarm_id: int, actor: Actor, note: str = "") -> Alarm:
    """raised or acknowledged → cleared; a rule still breached must build a new run to raise again."""
    with transaction.atomic():
        alarm = _locked(alarm_id, actor)
        if alarm.state == CLEARED:
            raise TransitionRefused(f"alarm {alarm_id} is already cleared")
        RuleState.objects.filter(alarm=alarm).update(alarm=None, consecutive=0, over_since=None)
        close(alarm, actor, note)
    return alarm
