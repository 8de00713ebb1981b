"""The rule logic alone: threshold, duration, repeat, hysteresis, which rules watch a sensor."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from dispatchd.models import AlarmRule, RuleState, Sensor
from dispatchd.sensors.rules import Verdict, breaches, offline_limit, rules_for, step

T0 = datetime(2025, 9, 30, 1, 0, tzinfo=UTC)


def gas_rule(**fields) -> AlarmRule:
    """An unsaved gas rule: at or above 20, clearing below 10, unless told otherwise."""
    return AlarmRule(**{"name": "gas", "sensor_type": "gas", "threshold": 20.0, "clear_threshold": 10.0, **fields})


def run(rule: AlarmRule, values: list[float], step_min: float = 1.0, state: RuleState | None = None) -> list:
    """Step a fresh state (or `state`) through one reading a minute; the verdicts, linking alarms like the engine."""
    state = state or RuleState()
    verdicts = []
    for i, value in enumerate(values):
        verdict = step(rule, state, value, T0 + timedelta(minutes=i * step_min))
        if verdict is Verdict.RAISE:
            state.alarm_id = 1
        elif verdict is Verdict.CLEAR:
            state.alarm_id = None
        verdicts.append(verdict.value if verdict else None)
    return verdicts


def test_a_value_at_or_beyond_the_threshold_breaches():
    above, below = gas_rule(), gas_rule(comparison="below", threshold=0.5, clear_threshold=0.8)
    assert [breaches(above, v) for v in (19.9, 20.0, 35.0)] == [False, True, True]
    assert [breaches(below, v) for v in (0.4, 0.5, 0.6)] == [True, True, False]


def test_a_plain_threshold_raises_on_the_first_breach_and_once():
    assert run(gas_rule(), [5, 25, 30, 40]) == [None, "raise", None, None]


def test_repeat_needs_that_many_breaching_readings_in_a_row():
    rule = gas_rule(repeat=3)
    assert run(rule, [25, 25, 5, 25, 25, 25]) == [None, None, None, None, None, "raise"]


def test_duration_needs_the_breach_to_last_that_long():
    rule = gas_rule(duration_min=5)
    # a dip at minute 3 restarts the clock; the breach from minute 4 lasts 5 minutes at minute 9
    values = [25, 25, 25, 5, 25, 25, 25, 25, 25, 25]
    assert run(rule, values) == [None] * 9 + ["raise"]


def test_duration_and_repeat_must_both_hold():
    rule = gas_rule(duration_min=10, repeat=2)
    assert run(rule, [25, 25], step_min=5) == [None, None]
    assert run(rule, [25, 25, 25], step_min=5) == [None, None, "raise"]


def test_hysteresis_keeps_the_alarm_through_the_band_and_never_flaps():
    # oscillating around the threshold: raised once, never cleared while above the clear level, never raised again
    values = [21, 19, 21, 19.5, 20, 11, 21, 10.5]
    assert run(gas_rule(), values) == ["raise"] + [None] * 7
    assert run(gas_rule(), values + [9.9, 15, 19, 21]) == ["raise"] + [None] * 7 + ["clear", None, None, "raise"]


def test_oscillation_around_the_threshold_never_raises_with_repeat():
    assert run(gas_rule(repeat=2), [21, 19] * 10) == [None] * 20


def test_a_rule_below_clears_above_its_clear_level():
    rule = gas_rule(comparison="below", threshold=0.5, clear_threshold=0.8)
    assert run(rule, [1.0, 0.4, 0.7, 0.8, 0.81]) == [None, "raise", None, None, "clear"]


def test_without_clear_threshold_the_threshold_is_the_clear_level():
    assert run(gas_rule(clear_threshold=None), [25, 20, 19.9]) == ["raise", None, "clear"]


def test_readings_not_newer_than_the_last_one_are_ignored():
    rule, state = gas_rule(repeat=2), RuleState()
    assert step(rule, state, 25, T0) is None
    assert step(rule, state, 25, T0) is None  # the same reading again
    assert step(rule, state, 25, T0 - timedelta(minutes=1)) is None  # a late one
    assert state.consecutive == 1
    assert step(rule, state, 25, T0 + timedelta(minutes=1)) is Verdict.RAISE


def test_a_sensors_own_rules_replace_those_of_its_type():
    sensor = Sensor(id=7, type="gas")
    typed = gas_rule(id=1, offline_after_min=30)
    other_type = AlarmRule(id=2, name="noise", sensor_type="noise", threshold=70)
    assert rules_for(sensor, [typed, other_type]) == [typed]
    own = AlarmRule(id=3, name="own", sensor_id=7, threshold=40, offline_after_min=5)
    assert rules_for(sensor, [typed, own, other_type]) == [own]
    assert offline_limit(sensor, [typed, own]) == 5
    own.active = False
    assert rules_for(sensor, [typed, own]) == [typed]
    assert offline_limit(sensor, [typed, own]) == 30


def test_the_strictest_offline_limit_of_a_sensors_rules_counts():
    sensor = Sensor(id=7, type="gas")
    rules = [gas_rule(id=1, offline_after_min=30), gas_rule(id=2, threshold=50, offline_after_min=15), gas_rule(id=3)]
    assert offline_limit(sensor, rules) == 15
    assert offline_limit(sensor, [gas_rule(id=4)]) is None
