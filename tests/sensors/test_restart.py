"""Rule state lives in the database: a fresh process continues each run and raises no duplicate alarm."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection

from dispatchd.models import Alarm, RuleState

ROOT = Path(__file__).resolve().parents[2]

# A new interpreter: nothing in memory but what it reads from the database.
EVALUATE = """
import json, sys
from datetime import datetime
import django
django.setup()
from dispatchd.models import Sensor, SensorReading
from dispatchd.sensors.engine import process_readings
sensor = Sensor.objects.get(code=sys.argv[1])
readings = [SensorReading(sensor=sensor, at=datetime.fromisoformat(at), value=v) for at, v in json.loads(sys.argv[2])]
print(json.dumps(process_readings(readings)))
"""


def _database_url() -> str:
    """The URL of the test database this test runs against."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    return f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def evaluate_in_new_process(sensor, readings: list[tuple]) -> dict[str, int]:
    """Run `readings` of `sensor` through the engine in a fresh Python process; its counts."""
    env = {**os.environ, "DATABASE_URL": _database_url(), "DJANGO_SETTINGS_MODULE": "wall.settings"}
    env.pop("REDIS_URL", None)
    arguments = json.dumps([(at.isoformat(), value) for at, value in readings])
    done = subprocess.run(
        [sys.executable, "-c", EVALUATE, sensor.code, arguments], cwd=ROOT, env=env,
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.django_db(transaction=True)
def test_a_restart_continues_the_run_and_raises_no_duplicate(gas_sensor, rule, feed, clock):
    rule(repeat=3, duration_min=2)
    feed(gas_sensor, [25, 25])  # two of three, one minute apart
    state = RuleState.objects.get()
    assert (state.consecutive, state.alarm_id) == (2, None)

    t = clock.now
    third = [(t + timedelta(minutes=1), 26.0)]
    assert evaluate_in_new_process(gas_sensor, third) == {"readings": 1, "raised": 1, "cleared": 0}
    state.refresh_from_db()
    assert state.consecutive == 3 and state.over_since == t - timedelta(minutes=1)

    # another restart: the same reading again and a further breach raise nothing new
    again = [*third, (t + timedelta(minutes=2), 27.0)]
    assert evaluate_in_new_process(gas_sensor, again) == {"readings": 2, "raised": 0, "cleared": 0}
    alarm = Alarm.objects.get()
    assert alarm.state == "raised" and RuleState.objects.get().alarm_id == alarm.id

    # and the alarm, linked in the database, clears in yet another process
    assert evaluate_in_new_process(gas_sensor, [(t + timedelta(minutes=3), 5.0)])["cleared"] == 1
    assert Alarm.objects.get().state == "cleared"
