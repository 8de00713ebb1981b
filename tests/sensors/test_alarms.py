"""Readings through the ingest raise and clear alarms; the lifecycle, its events and the auto-created case."""

from __future__ import annotations

import pytest

from dispatchd.actors import Actor
from dispatchd.errors import NotAllowed, NotFound, TransitionRefused
from dispatchd.models import Alarm, Case, RuleState
from dispatchd.sensors import alarms
from dispatchd.sensors.engine import process_readings

COMMANDER = Actor("duty1", "commander")


def test_a_breaching_reading_raises_one_alarm_at_the_sensor(city, gas_sensor, rule, feed, events):
    gas = rule(severity="major")
    with events.committing():
        feed(gas_sensor, [3, 25, 30])
    alarm = Alarm.objects.get()
    assert (alarm.kind, alarm.state, alarm.severity, alarm.value) == ("sensor_threshold", "raised", "major", 25)
    assert (alarm.sensor_id, alarm.lat, alarm.lon) == (gas_sensor.id, gas_sensor.lat, gas_sensor.lon)
    assert alarm.case_id is None
    assert "RQ-001" in alarm.message and "%LEL" in alarm.message
    [raised] = events.data("alarm.raised", topic="alarms")
    assert raised["id"] == alarm.id and raised["rule_id"] == gas.id
    assert (raised["sensor_code"], raised["grid_id"], raised["state"]) == ("RQ-001", city.cells[1].id, "raised")


def test_the_same_batch_sent_twice_raises_nothing_more(gas_sensor, rule, feed, clock):
    rule(repeat=2)
    start = clock.now
    assert feed(gas_sensor, [25, 25, 25], start=start) == {"accepted": 3, "duplicates": 0}
    assert feed(gas_sensor, [25, 25, 25], start=start) == {"accepted": 0, "duplicates": 3}
    assert Alarm.objects.count() == 1
    assert RuleState.objects.get().consecutive == 3


def test_acknowledge_then_clear_announces_each_step(gas_sensor, rule, feed, events, clock):
    rule()
    feed(gas_sensor, [25])
    alarm = Alarm.objects.get()
    with events.committing():
        acknowledged = alarms.acknowledge(alarm.id, COMMANDER, note="on it")
    assert (acknowledged.state, acknowledged.acknowledged_by, acknowledged.acknowledged_at) == (
        "acknowledged", "commander:duty1", clock.now
    )
    clock.advance(minutes=5)
    with events.committing():
        cleared = alarms.clear(alarm.id, COMMANDER)
    assert (cleared.state, cleared.cleared_at) == ("cleared", clock.now)
    assert events.types("alarms") == ["alarm.acknowledged", "alarm.cleared"]
    assert events.data("alarm.acknowledged", topic="alarms")[0]["note"] == "on it"
    assert events.data("alarm.cleared", topic="alarms")[0]["cleared_by"] == "commander:duty1"


def test_lifecycle_steps_out_of_order_are_refused(gas_sensor, rule, feed):
    rule()
    feed(gas_sensor, [25])
    alarm = Alarm.objects.get()
    alarms.clear(alarm.id, COMMANDER)  # raised → cleared directly is allowed
    with pytest.raises(TransitionRefused):
        alarms.acknowledge(alarm.id, COMMANDER)
    with pytest.raises(TransitionRefused):
        alarms.clear(alarm.id, COMMANDER)
    with pytest.raises(NotFound):
        alarms.acknowledge(alarm.id + 1000, COMMANDER)
    with pytest.raises(NotAllowed):
        alarms.acknowledge(alarm.id, Actor("wall1", "wall"))


def test_the_engine_clears_the_alarm_past_the_clear_level(gas_sensor, rule, feed, events):
    rule()
    with events.committing():
        feed(gas_sensor, [25, 15, 12, 9])
    alarm = Alarm.objects.get()
    assert alarm.state == "cleared"
    assert events.types("alarms") == ["alarm.raised", "alarm.cleared"]
    assert events.data("alarm.cleared", topic="alarms")[0]["cleared_by"] == "system:sensors"
    assert RuleState.objects.get().alarm is None


def test_an_acknowledged_alarm_still_clears_by_itself(gas_sensor, rule, feed, clock):
    rule()
    feed(gas_sensor, [25])
    alarms.acknowledge(Alarm.objects.get().id, COMMANDER)
    clock.advance(minutes=1)
    feed(gas_sensor, [5])
    assert Alarm.objects.get().state == "cleared"


def test_after_an_operator_clears_a_still_breaching_rule_needs_a_new_run(gas_sensor, rule, feed, clock):
    rule(repeat=3)
    feed(gas_sensor, [25, 25, 25])
    first = Alarm.objects.get()
    alarms.clear(first.id, COMMANDER)
    clock.advance(minutes=1)
    feed(gas_sensor, [25, 25])
    assert Alarm.objects.count() == 1
    clock.advance(minutes=1)
    feed(gas_sensor, [25])
    assert Alarm.objects.exclude(pk=first.pk).get().state == "raised"


def test_a_rule_with_a_category_opens_a_case_at_the_sensor(city, gas_sensor, gas_category, rule, feed, events):
    rule(severity="major", case_category="SJ0403")
    with events.committing():
        feed(gas_sensor, [30])
    alarm = Alarm.objects.select_related("case").get()
    case = alarm.case
    assert case is not None and Case.objects.count() == 1
    assert (case.source, case.category_id, case.severity, case.urgent) == ("sensor", gas_category.id, "major", True)
    assert (case.lat, case.lon, case.grid_id) == (gas_sensor.lat, gas_sensor.lon, gas_sensor.grid_id)
    assert case.street_id == city.streets[0].id and case.external_id == f"alarm-{alarm.id}"
    assert case.timeline.get().actor == "system:sensors"
    assert events.data("alarm.raised", topic="alarms")[0]["case_id"] == case.id
    assert [c["id"] for c in events.data("case.created")] == [case.id]


def test_an_unknown_case_category_still_raises_the_alarm(gas_sensor, rule, feed):
    rule(case_category="XX9999")
    feed(gas_sensor, [30])
    assert Alarm.objects.get().case_id is None
    assert Case.objects.count() == 0


def test_each_rule_of_a_sensor_keeps_its_own_state(gas_sensor, rule, feed):
    rule(name="low", threshold=20, clear_threshold=10)
    rule(name="high", threshold=50, clear_threshold=40, severity="major")
    feed(gas_sensor, [25, 55, 45, 30, 5])
    raised = {a.message.split(": ")[0]: a.state for a in Alarm.objects.all()}
    assert raised == {"RQ-001 low": "cleared", "RQ-001 high": "cleared"}
    assert RuleState.objects.filter(alarm__isnull=False).count() == 0


def test_readings_of_a_sensor_without_rules_change_nothing(gas_sensor, feed):
    feed(gas_sensor, [99])
    assert Alarm.objects.count() == 0 and RuleState.objects.count() == 0


def test_readings_out_of_order_in_one_batch_are_evaluated_in_time_order(gas_sensor, rule, clock):
    from dispatchd.models import SensorReading

    rule(repeat=2)
    t = clock.now
    late_first = [(2, 25), (0, 5), (1, 25)]
    readings = [SensorReading(sensor=gas_sensor, at=t.replace(minute=m), value=v) for m, v in late_first]
    assert process_readings(readings) == {"readings": 3, "raised": 1, "cleared": 0}
