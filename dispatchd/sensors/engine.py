"""The rule engine: a batch of stored readings passes a chain of small handlers.

load → lock_states → evaluate → persist → back_online

`load` finds the readings' sensors and the rules that watch them; `lock_states` fetches (creating when
missing) and locks the stored state of every (rule, sensor) pair; `evaluate` steps each state through
the sensor's readings in time order, raising and clearing alarms as the rules decide; `persist` writes
the states back, so a restart continues every run where it stood; `back_online` clears the offline
alarm of a sensor that reports again. Readings older than what a state has seen are skipped, so the
engine may see a reading twice without effect.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from django.db import transaction
from django.db.models import Q

from dispatchd.models import Alarm, AlarmRule, RuleState, Sensor
from dispatchd.sensors import alarms
from dispatchd.sensors.rules import Verdict, offline_limit, rules_for, step


class ReadingLike(Protocol):
    """What the engine needs of a reading (a SensorReading will do)."""

    sensor_id: int
    at: datetime
    value: float


@dataclass
class Evaluation:
    """What flows through the chain: the readings, their sensors and rules, the states, the outcome."""

    readings: list[ReadingLike]
    sensors: dict[int, Sensor] = field(default_factory=dict)
    rules: dict[int, list[AlarmRule]] = field(default_factory=dict)  # sensor id → the rules watching it
    states: dict[tuple[int, int], RuleState] = field(default_factory=dict)  # (rule id, sensor id) → state
    raised: list[Alarm] = field(default_factory=list)
    cleared: list[Alarm] = field(default_factory=list)

    def result(self) -> dict[str, int]:
        """The counts of the run."""
        return {"readings": len(self.readings), "raised": len(self.raised), "cleared": len(self.cleared)}


def load(readings: Iterable[ReadingLike]) -> Evaluation:
    """Sort the readings by sensor and time; fetch their sensors and the active rules watching them."""
    ev = Evaluation(sorted(readings, key=lambda r: (r.sensor_id, r.at)))
    ev.sensors = Sensor.objects.in_bulk({r.sensor_id for r in ev.readings})
    types = {s.type for s in ev.sensors.values()}
    rules = list(
        AlarmRule.objects.filter(active=True).filter(
            Q(sensor_id__in=ev.sensors.keys()) | Q(sensor__isnull=True, sensor_type__in=types)
        )
    )
    ev.rules = {sensor_id: rules_for(sensor, rules) for sensor_id, sensor in ev.sensors.items()}
    return ev


def lock_states(ev: Evaluation) -> None:
    """Fetch and lock the state of every (rule, sensor) pair, creating the missing ones."""
    pairs = {(rule.id, sensor_id) for sensor_id, rules in ev.rules.items() for rule in rules}
    if not pairs:
        return
    RuleState.objects.bulk_create(
        [RuleState(rule_id=r, sensor_id=s) for r, s in sorted(pairs)], ignore_conflicts=True
    )
    rule_ids, sensor_ids = {r for r, _ in pairs}, {s for _, s in pairs}
    query = RuleState.objects.select_for_update(of=("self",)).select_related("alarm").order_by("id")
    for state in query.filter(rule_id__in=rule_ids, sensor_id__in=sensor_ids):
        if (state.rule_id, state.sensor_id) in pairs:
            if state.alarm is not None and state.alarm.state == alarms.CLEARED:
                state.alarm = None  # cleared elsewhere (e.g. the admin): the rule may raise again
            ev.states[state.rule_id, state.sensor_id] = state


def evaluate(ev: Evaluation) -> None:
    """Step each state through its sensor's readings, raising and clearing alarms as they come."""
    for reading in ev.readings:
        sensor = ev.sensors.get(reading.sensor_id)
        if sensor is None:  # deleted meanwhile
            continue
        for rule in ev.rules.get(sensor.id, ()):
            state = ev.states[rule.id, sensor.id]
            verdict = step(rule, state, reading.value, reading.at)
            if verdict is Verdict.RAISE:
                state.alarm = alarms.raise_alarm(rule, sensor, reading.value)
                ev.raised.append(state.alarm)
            elif verdict is Verdict.CLEAR:
                alarm = state.alarm
                alarms.close(alarm, alarms.SENSORS, note=f"{reading.value:g} is past {rule.clear_level:g}")
                state.alarm = None
                ev.cleared.append(alarm)


def persist(ev: Evaluation) -> None:
    """Write every state back: runs, last reading and active alarm survive a restart."""
    fields = ["consecutive", "over_since", "last_at", "last_value", "alarm"]
    RuleState.objects.bulk_update(ev.states.values(), fields, batch_size=500)


def back_online(ev: Evaluation) -> None:
    """Clear the offline alarm of each sensor that reported after it fell silent."""
    newest = {r.sensor_id: r.at for r in ev.readings}  # sorted: the last one per sensor is the newest
    open_alarms = Alarm.objects.select_for_update().filter(
        kind=alarms.OFFLINE, sensor_id__in=newest.keys(), state__in=[alarms.RAISED, alarms.ACKNOWLEDGED]
    )
    for alarm in open_alarms:
        limit = offline_limit(ev.sensors[alarm.sensor_id], ev.rules.get(alarm.sensor_id, ()))
        silent_since = alarm.raised_at - timedelta(minutes=limit or 0)
        if newest[alarm.sensor_id] > silent_since:
            alarms.close(alarm, alarms.SENSORS, note="reporting again")
            ev.cleared.append(alarm)


CHAIN: tuple[Callable[[Evaluation], None], ...] = (lock_states, evaluate, persist, back_online)


def process_readings(readings: Iterable[ReadingLike]) -> dict[str, int]:
    """Run stored readings through the alarm rules; how many readings, alarms raised and cleared."""
    with transaction.atomic():
        ev = load(readings)
        for handler in CHAIN:
            handler(ev)
    return ev.result()
