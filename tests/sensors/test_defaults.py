"""The default rules (one per sensor type, sane against the demo's normal readings, created once); the demo feed."""

from __future__ import annotations

import random

from dispatchd.demo.devices import SENSOR_KINDS
from dispatchd.models import Alarm, AlarmRule, Sensor, SensorReading
from dispatchd.models.devices import SensorType
from dispatchd.sensors.defaults import DEFAULT_RULES, ensure_default_rules
from dispatchd.sensors.ranges import VALID_RANGE
from dispatchd.sensors.simulate import SensorFeed


def test_every_sensor_type_has_a_default_rule_between_its_normal_readings_and_its_range():
    specs = {spec["sensor_type"]: spec for spec in DEFAULT_RULES}
    by_type = {kind: AlarmRule(**spec) for kind, spec in specs.items()}
    assert set(by_type) == set(SensorType.values)
    for kind, rule in by_type.items():
        normal = SENSOR_KINDS[kind]
        low, high = VALID_RANGE[kind]
        assert normal.mean < rule.clear_level < rule.threshold < high, kind  # normal readings clear the alarm
        assert normal.mean + 2 * normal.spread < rule.threshold, kind  # and rarely breach
        assert low <= normal.mean and rule.offline_after_min and rule.case_category, kind
        AlarmRule(**{**specs[kind], "case_category": ""}).clean()  # hysteresis the right way


def test_defaults_are_created_once_and_respect_an_operators_rules(db):
    assert ensure_default_rules() == len(DEFAULT_RULES)
    assert ensure_default_rules() == 0
    AlarmRule.objects.filter(sensor_type="noise").delete()
    assert ensure_default_rules() == 0
    assert not AlarmRule.objects.filter(sensor_type="noise").exists()


def test_the_default_gas_rule_raises_at_twenty_percent_lel(gas_sensor, feed):
    ensure_default_rules()
    feed(gas_sensor, [5, 19.9, 20])
    assert Alarm.objects.get().value == 20


def test_the_demo_feed_reports_normal_values_and_now_and_then_an_excursion(gas_sensor, clock):
    ensure_default_rules()
    Sensor.objects.create(code="RQ-002", name="离线", type="gas", lat=22.705, lon=114.305, online=False)
    feed = SensorFeed(rng=random.Random(7), excursion_chance=0.0)
    for _ in range(5):
        clock.advance(minutes=1)
        assert feed.tick() == {"accepted": 1, "duplicates": 0}  # the offline sensor stays silent
    assert SensorReading.objects.filter(value__gte=20).count() == 0 and Alarm.objects.count() == 0
    feed.excursion_chance = 1.0
    for _ in range(5):
        clock.advance(minutes=1)
        feed.tick()
    assert Alarm.objects.get().sensor_id == gas_sensor.id
