"""The offline watch: a sensor silent for longer than its rules allow raises one offline alarm per silence."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from dispatchd.events import publish_on_commit
from dispatchd.models import Alarm, AlarmRule, Sensor
from dispatchd.sensors import alarms
from dispatchd.sensors.rules import offline_limit


def silent_sensors(now: datetime, rules: list[AlarmRule]) -> list[tuple[Sensor, float]]:
    """Sensors whose last reading is older than their offline limit, with how many minutes they are silent."""
    limits = [r.offline_after_min for r in rules if r.offline_after_min]
    if not limits:
        return []
    candidates = Sensor.objects.filter(last_seen__lt=now - timedelta(minutes=min(limits))).order_by("id")
    silent = []
    for sensor in candidates:
        limit = offline_limit(sensor, rules)
        silent_min = (now - sensor.last_seen).total_seconds() / 60
        if limit is not None and silent_min > limit:
            silent.append((sensor, silent_min))
    return silent


def check_offline(now: datetime | None = None) -> int:
    """Raise an offline alarm for each newly silent sensor and mark it offline; how many were raised."""
    now = now or timezone.now()
    rules = list(AlarmRule.objects.filter(active=True))
    silent = silent_sensors(now, rules)
    if not silent:
        return 0
    alarmed = dict(
        Alarm.objects.filter(kind=alarms.OFFLINE, sensor_id__in=[s.id for s, _ in silent])
        .values("sensor_id").annotate(newest=Max("raised_at")).values_list("sensor_id", "newest")
    )
    raised = 0
    with transaction.atomic():
        for sensor, silent_min in silent:
            if sensor.id in alarmed and alarmed[sensor.id] >= sensor.last_seen:
                continue  # this silence already has its alarm (open, or cleared by an operator)
            if not Sensor.objects.filter(pk=sensor.pk, last_seen=sensor.last_seen).update(online=False):
                continue  # a reading arrived meanwhile
            alarms.raise_offline(sensor, silent_min)
            publish_on_commit("sensors", "sensor.status", {"sensor_id": sensor.id, "online": False})
            raised += 1
    return raised
