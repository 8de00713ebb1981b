"""Readings over HTTP: bad batches refused whole with 400; alarm actions and rules through the API."""

from __future__ import annotations

from datetime import timedelta

import pytest

from dispatchd.models import Alarm, RuleState, Sensor, SensorReading


def item(sensor: Sensor, at, value, **extra) -> dict:
    """One reading as the HTTP ingest receives it."""
    return {"sensor": sensor.code, "at": at.isoformat(), "value": value, **extra}


def test_readings_over_http_raise_the_alarm(gas_sensor, rule, api_as, clock, events):
    rule()
    items = [item(gas_sensor, clock.now - timedelta(minutes=1), 4), item(gas_sensor, clock.now, 32)]
    with events.committing():
        response = api_as("device").post("sensors/readings", {"items": items})
    assert (response.status_code, response.json()) == (200, {"accepted": 2, "duplicates": 0})
    assert Alarm.objects.get().value == 32
    assert events.types("alarms") == ["alarm.raised"]


@pytest.mark.parametrize(
    "bad",
    [
        {"value": 150},  # more than 100 %LEL: a broken detector
        {"value": -1},
        {"value": "high"},
        {"value": None},
        {"value": 1e12},
        {"sensor": "NO-SUCH"},
        {"sensor": ""},
        {"at": "2099-01-01T00:00:00+08:00"},
        {"at": "yesterday"},
        {"at": "1970-01-01T00:00:00Z"},
        {"unit": "%LEL"},
    ],
)
def test_one_bad_reading_refuses_the_batch_and_stores_nothing(gas_sensor, rule, api_as, clock, bad):
    rule()
    items = [item(gas_sensor, clock.now - timedelta(minutes=1), 30), {**item(gas_sensor, clock.now, 31), **bad}]
    response = api_as("device").post("sensors/readings", {"items": items})
    assert (response.status_code, response.json()["error"]) == (400, "invalid")
    assert SensorReading.objects.count() == 0 and Alarm.objects.count() == 0 and RuleState.objects.count() == 0
    assert Sensor.objects.get().last_seen is None


def test_an_impossible_value_is_named_in_the_refusal(city, api_as, clock):
    noise = Sensor.objects.create(code="ZS-001", name="噪声", type="noise", unit="dB(A)", lat=22.705, lon=114.305)
    response = api_as("device").post("sensors/readings", {"items": [item(noise, clock.now, 250)]})
    assert response.status_code == 400
    assert "impossible for noise sensor ZS-001" in response.json()["detail"]["items[0].value"]


def test_commanders_acknowledge_and_clear_alarms_over_http(gas_sensor, rule, feed, api_as, events):
    rule()
    feed(gas_sensor, [30])
    alarm_id = Alarm.objects.get().id
    assert api_as("wall").post(f"alarms/{alarm_id}/acknowledge").status_code == 403
    assert api_as("device").post(f"alarms/{alarm_id}/clear").status_code == 403
    commander = api_as("commander")
    with events.committing():
        acknowledged = commander.post(f"alarms/{alarm_id}/acknowledge", {"note": "调度燃气公司"})
    assert acknowledged.status_code == 200
    assert (acknowledged.json()["state"], acknowledged.json()["id"]) == ("acknowledged", alarm_id)
    assert commander.post(f"alarms/{alarm_id}/acknowledge").status_code == 409
    cleared = api_as("admin").post(f"alarms/{alarm_id}/clear")
    assert (cleared.status_code, cleared.json()["state"]) == (200, "cleared")
    assert commander.post(f"alarms/{alarm_id}/clear").json()["error"] == "transition_refused"
    assert commander.post("alarms/999999/clear").status_code == 404
    assert commander.post(f"alarms/{alarm_id}/clear", {"note": 5}).status_code == 400
    assert events.types("alarms") == ["alarm.acknowledged"]


def test_the_alarm_rules_are_listed(rule, api_as):
    gas = rule(repeat=2, case_category="SJ0403")
    [listed] = api_as("wall").get("alarm-rules").json()
    assert (listed["id"], listed["repeat"], listed["clear_threshold"], listed["case_category"]) == (
        gas.id, 2, 10.0, "SJ0403"
    )
