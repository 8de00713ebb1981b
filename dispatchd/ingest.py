"""Batch ingest of positions and sensor readings: validate the whole batch, then store it."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from dispatchd.errors import InvalidInput
from dispatchd.events import publish_on_commit
from dispatchd.models import Sensor, SensorReading
from dispatchd.sensors.engine import process_readings
from dispatchd.sensors.ranges import check_readings

MAX_CLOCK_SKEW = timedelta(seconds=60)


def _check_time(at: datetime, where: str) -> datetime:
    if timezone.is_naive(at):
        at = timezone.make_aware(at)
    if at > timezone.now() + MAX_CLOCK_SKEW:
        raise InvalidInput({where: f"timestamp {at.isoformat()} is in the future"})
    if at.year < 2000:
        raise InvalidInput({where: f"timestamp {at.isoformat()} is too old"})
    return at


def _count_new(model, owner: str, keys: list[tuple[int, datetime]]) -> int:
    """How many distinct (owner, at) keys are not stored yet."""
    wanted = set(keys)
    owners = {k[0] for k in wanted}
    times = [k[1] for k in wanted]
    existing = set(
        model.objects.filter(**{f"{owner}__in": owners}, at__gte=min(times), at__lte=max(times))
        .values_list(owner, "at")
    )
    return len(wanted - existing)


def store_positions(items: list[dict[str, Any]]) -> dict[str, int]:
    """Run a batch of GPS fixes through the position pipeline (validate, trail, live state, geofences)."""
    from dispatchd.field import pipeline

    return pipeline.ingest(items)


def store_readings(items: list[dict[str, Any]]) -> dict[str, int]:
    """Store sensor readings (duplicates ignored), keep each sensor's latest value, run the alarm rules."""
    codes = {item["sensor"] for item in items}
    sensors = {s.code: s for s in Sensor.objects.filter(code__in=codes)}
    if unknown := sorted(codes - sensors.keys()):
        raise InvalidInput({"sensor": f"unknown sensors: {unknown[:20]}"})
    readings = []
    for index, item in enumerate(items):
        at = _check_time(item["at"], f"items[{index}].at")
        readings.append(SensorReading(sensor=sensors[item["sensor"]], at=at, value=item["value"]))
    check_readings(readings)
    latest: dict[int, SensorReading] = {}
    for reading in readings:
        if reading.sensor_id not in latest or reading.at > latest[reading.sensor_id].at:
            latest[reading.sensor_id] = reading
    with transaction.atomic():
        stored = _count_new(SensorReading, "sensor_id", [(r.sensor_id, r.at) for r in readings])
        SensorReading.objects.bulk_create(readings, ignore_conflicts=True, batch_size=1000)
        for sensor_id, reading in latest.items():
            updated = Sensor.objects.filter(pk=sensor_id).exclude(last_seen__gte=reading.at).update(
                last_value=reading.value, last_seen=reading.at, online=True
            )
            if updated:
                data = {"sensor_id": sensor_id, "value": reading.value, "at": reading.at.isoformat()}
                publish_on_commit("sensors", "sensor.reading", data)
        process_readings(readings)
    return {"accepted": stored, "duplicates": len(readings) - stored}
