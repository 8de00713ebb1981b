"""A sensor silent for longer than its rules allow raises one offline alarm, cleared when it reports again."""

from __future__ import annotations

from datetime import timedelta

from dispatchd.actors import Actor
from dispatchd.models import Alarm, AlarmRule, Sensor
from dispatchd.sensors import alarms
from dispatchd.sensors.offline import check_offline

COMMANDER = Actor("duty1", "commander")


def test_a_silent_sensor_raises_one_offline_alarm(gas_sensor, rule, feed, clock, events):
    rule(offline_after_min=30)
    feed(gas_sensor, [3])
    assert check_offline(clock.now + timedelta(minutes=29)) == 0
    with events.committing():
        assert check_offline(clock.now + timedelta(minutes=31)) == 1
    alarm = Alarm.objects.get()
    assert (alarm.kind, alarm.state, alarm.sensor_id) == ("sensor_offline", "raised", gas_sensor.id)
    assert (alarm.lat, alarm.lon) == (gas_sensor.lat, gas_sensor.lon)
    assert Sensor.objects.get().online is False
    assert events.types("alarms") == ["alarm.raised"]
    assert events.data("sensor.status", topic="sensors") == [{"sensor_id": gas_sensor.id, "online": False}]
    assert check_offline(clock.now + timedelta(minutes=90)) == 0  # the same silence, no second alarm


def test_the_offline_alarm_clears_when_the_sensor_reports_again(gas_sensor, rule, feed, clock, events):
    rule(offline_after_min=30)
    feed(gas_sensor, [3])
    clock.advance(minutes=45)
    check_offline()
    clock.advance(minutes=5)
    with events.committing():
        feed(gas_sensor, [4])
    assert Alarm.objects.get().state == "cleared"
    assert Sensor.objects.get().online is True
    assert events.data("alarm.cleared", topic="alarms")[0]["note"] == "reporting again"
    clock.advance(minutes=31)
    assert check_offline() == 1  # a new silence, a new alarm


def test_an_operator_clearing_the_alarm_does_not_bring_it_back_in_the_same_silence(gas_sensor, rule, feed, clock):
    rule(offline_after_min=30)
    feed(gas_sensor, [3])
    clock.advance(minutes=31)
    check_offline()
    alarms.clear(Alarm.objects.get().id, COMMANDER)
    clock.advance(minutes=60)
    assert check_offline() == 0


def test_sensors_without_an_offline_limit_or_readings_are_not_watched(city, gas_sensor, rule, feed, clock):
    rule()
    feed(gas_sensor, [3])
    Sensor.objects.create(code="RQ-002", name="从未上报", type="gas", lat=22.705, lon=114.305)
    assert check_offline(clock.now + timedelta(days=30)) == 0
    AlarmRule.objects.update(offline_after_min=10)
    assert check_offline(clock.now + timedelta(days=30)) == 1  # RQ-001 only: RQ-002 never reported


def test_a_sensors_own_rule_sets_its_offline_limit(gas_sensor, rule, feed, clock):
    rule(offline_after_min=30)
    rule(sensor_type="", sensor=gas_sensor, offline_after_min=120)
    feed(gas_sensor, [3])
    assert check_offline(clock.now + timedelta(minutes=60)) == 0
    assert check_offline(clock.now + timedelta(minutes=121)) == 1
