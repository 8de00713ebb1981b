"""The rule logic on one reading, without the database: breach, clear, and the step of a rule state.

A rule is breached by a value at or beyond its threshold. Breaching readings in a row build a run
(`consecutive`, `over_since`); any other reading ends it. An alarm is raised once the run is `repeat`
readings long and spans `duration_min`; it clears only when a value is past the clear level, so a value
wandering between the clear level and the threshold neither clears nor raises again (no flapping).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from enum import Enum

from dispatchd.models import AlarmRule, Comparison, RuleState, Sensor


class Verdict(Enum):
    RAISE = "raise"
    CLEAR = "clear"


def breaches(rule: AlarmRule, value: float) -> bool:
    """Whether `value` is at or beyond the rule's threshold."""
    return value >= rule.threshold if rule.comparison == Comparison.ABOVE else value <= rule.threshold


def clears(rule: AlarmRule, value: float) -> bool:
    """Whether `value` is past the rule's clear level (strictly), which ends an active alarm."""
    return value < rule.clear_level if rule.comparison == Comparison.ABOVE else value > rule.clear_level


def run_is_long_enough(rule: AlarmRule, state: RuleState, at: datetime) -> bool:
    """Whether the current run of breaching readings meets both `repeat` and `duration_min`."""
    if state.over_since is None or state.consecutive < rule.repeat:
        return False
    return at - state.over_since >= timedelta(minutes=rule.duration_min)


def step(rule: AlarmRule, state: RuleState, value: float, at: datetime) -> Verdict | None:
    """Advance `state` by one reading; RAISE or CLEAR when the alarm should change, else None.

    Readings not newer than the last one evaluated are ignored, so a batch sent twice changes nothing.
    The caller links or unlinks the alarm (`state.alarm`); an active alarm is `state.alarm_id`.
    """
    if state.last_at is not None and at <= state.last_at:
        return None
    state.last_at, state.last_value = at, value
    if breaches(rule, value):
        state.consecutive += 1
        state.over_since = state.over_since or at
    else:
        state.consecutive, state.over_since = 0, None
    active = state.alarm_id is not None
    if not active and run_is_long_enough(rule, state, at):
        return Verdict.RAISE
    if active and clears(rule, value):
        return Verdict.CLEAR
    return None


def rules_for(sensor: Sensor, rules: Iterable[AlarmRule]) -> list[AlarmRule]:
    """The active rules that watch `sensor`: its own rules if it has any, else those of its type."""
    active = [r for r in rules if r.active]
    own = [r for r in active if r.sensor_id == sensor.id]
    return own or [r for r in active if r.sensor_id is None and r.sensor_type == sensor.type]


def offline_limit(sensor: Sensor, rules: Iterable[AlarmRule]) -> float | None:
    """Minutes of silence after which `sensor` counts as offline (the strictest of its rules), or None."""
    limits = [r.offline_after_min for r in rules_for(sensor, rules) if r.offline_after_min]
    return min(limits) if limits else None
