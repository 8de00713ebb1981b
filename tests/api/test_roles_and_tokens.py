"""Bearer tokens and roles: no token → 401 everywhere; `wall` reads only; `device` ingests only."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import Group, User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from dispatchd.models import Attachment, Case, PositionFix
from tests.dispatchd.helpers import report
from wall.api import api
from wall.models import ApiToken

OPERATIONS = [
    (method.upper(), re.sub(r"\{[^}]+\}", "1", path))
    for path, item in api.get_openapi_schema()["paths"].items()
    for method in item
]


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_every_operation_needs_a_token(db, method, path):
    response = Client().generic(method, path, "{}", content_type="application/json")
    assert (response.status_code, response.json()["error"]) == (401, "unauthenticated")


@pytest.mark.parametrize(
    "header", ["Bearer", "Bearer ", "Bearer wt_not-a-token", "Basic dXNlcjpwYXNz", "Token abc", "Bearer " + "x" * 500]
)
def test_a_malformed_or_unknown_token_is_401(db, header):
    response = Client(HTTP_AUTHORIZATION=header).get("/api/cases")
    assert (response.status_code, response.json()["error"]) == (401, "unauthenticated")


def test_a_revoked_token_stops_working(city, commander):
    assert commander.get("cases").status_code == 200
    ApiToken.objects.update(revoked_at=timezone.now())
    assert commander.get("cases").status_code == 401


def write_requests(city) -> dict[str, tuple[str, dict]]:
    """A valid request for every write of the case and ingest API, so that only the role can refuse it."""
    case = report(city)
    lat, lon = city.point_in(0)
    at = "2025-01-01T00:00:00Z"
    photo = SimpleUploadedFile("p.jpg", b"\xff\xd8\xff\xe0", content_type="image/jpeg")
    return {
        "report": ("cases", {"title": "t", "category": "0101", "lat": lat, "lon": lon}),
        "act": (f"cases/{case.id}/actions/accept", {}),
        "attach": (f"cases/{case.id}/attachments", {"file": photo}),
        "positions": ("positions", {"items": [{"worker_id": city.workers[0].id, "lat": lat, "lon": lon, "at": at}]}),
        "readings": ("sensors/readings", {"items": [{"sensor": "S", "at": at, "value": 1}]}),
    }


@pytest.mark.parametrize("write", ["report", "act", "attach", "positions", "readings"])
def test_the_wall_role_may_not_write_anything(city, api_as, write):
    path, body = write_requests(city)[write]
    wall = api_as("wall")
    if write == "attach":
        response = wall.client.post(f"/api/{path}", body)
    else:
        response = wall.post(path, body)
    assert (response.status_code, response.json()["error"]) == (403, "forbidden")
    assert Case.objects.get().timeline.count() == 1 and not Attachment.objects.exists()
    assert not PositionFix.objects.exists()


# The audit log is for admins only (every route × role: tests/security/test_role_table.py).
@pytest.mark.parametrize(("method", "path"), [op for op in OPERATIONS if op[0] == "GET" and op[1] != "/api/audit"])
def test_the_wall_role_reads_and_a_device_does_not(city, api_as, method, path):
    assert api_as("wall").client.get(path).status_code in (200, 400, 404)  # 400: required query missing
    assert api_as("device").client.get(path).status_code == 403


def test_a_device_may_not_act_on_cases(city, api_as):
    case = report(city)
    response = api_as("device").act(case.id, "accept")
    assert (response.status_code, response.json()["error"]) == (403, "forbidden")


def test_a_logged_in_commander_session_is_accepted(city):
    user = User.objects.create_user("duty2", password="pw")
    user.groups.add(Group.objects.create(name="commander"))
    client = Client()
    client.force_login(user)
    assert client.get("/api/cases").status_code == 200


def test_a_session_without_a_role_is_401(city):
    client = Client()
    client.force_login(User.objects.create_user("visitor", password="pw"))
    assert client.get("/api/cases").status_code == 401
