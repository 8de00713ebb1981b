"""Fixtures of the sensor tests: a gas sensor with its case category, readings fed through the ingest, API clients."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.test import Client

from dispatchd import ingest
from dispatchd.models import AlarmRule, Category, Sensor
from tests.city import SmallCity
from tests.dispatchd.helpers import clock, events  # noqa: F401 - fixtures


@pytest.fixture
def gas_category(city: SmallCity) -> Category:
    """The 小类 of gas leaks, timed in calendar hours."""
    return Category.objects.create(
        code="SJ0403", name="燃气泄漏", parent=city.categories["big"], default_department=city.departments["GAS"],
        default_severity="major", timing="calendar", limits={"handle": 1},
    )


@pytest.fixture
def gas_sensor(city: SmallCity) -> Sensor:
    """A gas detector in grid cell 1."""
    lat, lon = city.point_in(1)
    return Sensor.objects.create(
        code="RQ-001", name="社区1可燃气体探测器01", type="gas", unit="%LEL", lat=lat, lon=lon, grid=city.cells[1]
    )


@pytest.fixture
def rule(gas_sensor: Sensor) -> Callable[..., AlarmRule]:
    """A factory of gas rules: threshold 20 %LEL, clearing below 10, raising at once, unless told otherwise."""

    def make(**fields: Any) -> AlarmRule:
        spec: dict[str, Any] = {
            "name": "可燃气体浓度超限", "sensor_type": "gas", "threshold": 20.0, "clear_threshold": 10.0
        }
        return AlarmRule.objects.create(**{**spec, **fields})

    return make


Feed = Callable[..., dict[str, int]]


@pytest.fixture
def feed(clock) -> Feed:  # noqa: F811 - the clock fixture
    """Send readings of a sensor through the ingest, one a minute, moving the clock to the last one."""

    def send(sensor: Sensor, values: list[float], step_min: float = 1.0, start: datetime | None = None) -> dict:
        start = start or clock.now
        items = [
            {"sensor": sensor.code, "at": start + timedelta(minutes=i * step_min), "value": value}
            for i, value in enumerate(values)
        ]
        clock.now = max(clock.now, items[-1]["at"])
        return ingest.store_readings(items)

    return send


class Api:
    """The Django test client with a bearer token and JSON bodies."""

    def __init__(self, token: str) -> None:
        self.client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")

    def get(self, path: str):
        """GET /api/<path>."""
        return self.client.get(f"/api/{path}")

    def post(self, path: str, body: Any = None):
        """POST /api/<path> with a JSON body."""
        return self.client.post(f"/api/{path}", json.dumps(body or {}), content_type="application/json")


@pytest.fixture
def api_as(city: SmallCity) -> Callable[[str], Api]:
    """A factory of API clients by role."""
    from wall.auth import create_token

    return lambda role: Api(create_token(role, f"test-{role}"))
