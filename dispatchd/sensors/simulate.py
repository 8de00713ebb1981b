"""The demo's sensor feed: every online sensor reports a normal value each interval; now and then one of
them breaches its rule for a while, so the wall shows alarms (and their cases) raised and cleared.

Sensors seeded offline stay silent, so the offline watch has something to find.
"""

from __future__ import annotations

import asyncio
import logging
import random
from dataclasses import dataclass, field
from datetime import datetime

from asgiref.sync import sync_to_async
from django.db import close_old_connections
from django.utils import timezone

from dispatchd.demo.devices import SENSOR_KINDS
from dispatchd.models import AlarmRule, Sensor
from dispatchd.sensors.ranges import VALID_RANGE
from dispatchd.sensors.rules import rules_for

log = logging.getLogger("dispatchd.sensors")


@dataclass
class SensorFeed:
    """Normal readings around each type's mean, and excursions: sensor id → (value, readings left)."""

    rng: random.Random = field(default_factory=random.Random)
    excursion_chance: float = 0.02  # per interval, that one sensor starts breaching
    excursions: dict[int, tuple[float, int]] = field(default_factory=dict)

    def value(self, sensor: Sensor) -> float:
        """The next value of `sensor`: its excursion if it has one, else a normal reading."""
        if sensor.id in self.excursions:
            value, left = self.excursions.pop(sensor.id)
            if left > 1:
                self.excursions[sensor.id] = (value, left - 1)
            return value
        kind = SENSOR_KINDS.get(sensor.type)
        low, high = VALID_RANGE.get(sensor.type, (0.0, 1e9))
        value = self.rng.gauss(kind.mean, kind.spread) if kind else 0.0
        return round(min(max(value, low), high), 2)

    def maybe_start_excursion(self, sensors: list[Sensor], rules: list[AlarmRule]) -> None:
        """Now and then let one sensor breach its first rule for long enough to raise the alarm."""
        if not sensors or self.rng.random() >= self.excursion_chance:
            return
        sensor = self.rng.choice(sensors)
        watching = rules_for(sensor, rules)
        if watching:
            rule = watching[0]
            value = rule.threshold * 1.3 if rule.comparison == "above" else rule.threshold * 0.7
            self.excursions[sensor.id] = (round(value, 2), rule.repeat + int(rule.duration_min) + 3)

    def tick(self, now: datetime | None = None) -> dict[str, int]:
        """One reading of every online sensor, through the ingest (and so the rules)."""
        from dispatchd import ingest

        now = now or timezone.now()
        sensors = list(Sensor.objects.filter(online=True).order_by("id"))
        if not sensors:
            return {"accepted": 0, "duplicates": 0}
        self.maybe_start_excursion(sensors, list(AlarmRule.objects.filter(active=True)))
        return ingest.store_readings([{"sensor": s.code, "at": now, "value": self.value(s)} for s in sensors])


def _tick_closing(feed: SensorFeed) -> None:
    close_old_connections()
    try:
        feed.tick()
    finally:
        close_old_connections()


async def run_sensor_feed(interval_s: float = 60.0) -> None:
    """Feed the demo sensors every `interval_s` seconds, forever."""
    feed = SensorFeed()
    tick = sync_to_async(_tick_closing, thread_sensitive=False)
    while True:
        try:
            await tick(feed)
        except Exception:
            log.exception("demo sensor feed failed; retrying")
        await asyncio.sleep(interval_s)
