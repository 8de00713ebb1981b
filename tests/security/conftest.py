"""Fixtures of the security tests: a scene with one of every resource, tokens per role, and the hub server."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from dispatchd import workflow
from dispatchd.actors import ROLES
from dispatchd.incidents import broadcast, command
from dispatchd.models import Alarm, Attachment, Camera, Case, CaseStatus, DispatchOrder, Incident, Sensor, Worker
from dispatchd.models.devices import SensorType
from tests.api.conftest import ApiClient, api_as, commander  # noqa: F401 - fixtures
from tests.browser.conftest import browser, browser_args  # noqa: F401 - fixtures
from tests.city import SmallCity
from tests.dispatchd.helpers import case_in, clock, events  # noqa: F401 - fixtures

# The hub tests' real `wall serve` on its own data dir and the test Redis (tests/realtime/conftest.py).
from tests.realtime.conftest import hub_data, hub_redis_url, server, tokens  # noqa: F401
from wall.auth import create_token

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF" + b"\x00" * 100


@dataclass
class Scene:
    """One of everything a route can name, the worker whose token the `worker` role uses, a token per role."""

    city: SmallCity
    worker: Worker
    case: Case
    order: DispatchOrder
    attachment: Attachment
    alarm: Alarm
    camera: Camera
    incident: Incident
    broadcast_id: int
    tokens: dict[str, str]

    def client(self, role: str) -> ApiClient:
        """An API client with the role's bearer token (`anonymous`: none)."""
        return ApiClient(self.tokens.get(role))


@pytest.fixture
def scene(city: SmallCity) -> Scene:
    """A case dispatched to worker 1 (with its order and a photo), an alarm, a camera, a sensor, an incident."""
    worker = city.workers[1]
    case = case_in(city, CaseStatus.DISPATCHED)  # dispatched to city.workers[1], which has an order offered
    photo = SimpleUploadedFile("p.jpg", JPEG, content_type="image/jpeg")
    attachment = workflow.attach(case, city.commander, "p.jpg", "image/jpeg", photo)
    lat, lon = city.point_in(2)
    incident = command.declare(
        command.Declaration(title="燃气泄漏", lat=lat, lon=lon, category=city.categories["litter"].id), city.commander
    )
    sent = broadcast.broadcast(incident.id, 3000, "撤离", city.commander)
    Sensor.objects.create(code="S-1", name="烟感", type=SensorType.values[0], lat=lat, lon=lon)
    made = {role: create_token(role, f"table-{role}", worker.id if role == "worker" else None) for role in ROLES}
    return Scene(
        city=city, worker=worker, case=case, order=DispatchOrder.objects.get(case=case, worker=worker),
        attachment=attachment, alarm=Alarm.objects.create(kind="smoke", message="烟感报警"),
        camera=Camera.objects.create(gb_id="44039900001320000001", name="路口"),
        incident=incident, broadcast_id=sent.id, tokens=made,
    )
