"""POST /api/cases: report a case from any source; bad reports are refused with 400 and nothing stored."""

from __future__ import annotations

import re

import pytest

from dispatchd.models import Case
from dispatchd.models.cases import Source


def body(city, **extra) -> dict:
    """A valid report in cell 0."""
    lat, lon = city.point_in(0)
    return {"title": "井盖缺失", "category": "0201", "lat": lat, "lon": lon, **extra}


@pytest.mark.parametrize("source", Source.values)
def test_a_case_can_come_from_any_source(city, commander, events, source):
    with events.committing():
        response = commander.post("cases", body(city, source=source, external_id="X-1"))
    assert response.status_code == 201, response.json()
    case = response.json()
    assert re.fullmatch(r"\d{8}-\d{5}", case["number"])
    assert (case["status"], case["source"], case["grid_id"]) == ("reported", source, city.cells[0].id)
    assert (case["severity"], case["stage"], case["sla_state"]) == ("high", "accept", "ok")  # category default
    assert events.types() == ["case.created"]
    assert Case.objects.get(pk=case["id"]).timeline.get().data["source"] == source


def test_a_category_may_be_named_by_id(city, commander):
    response = commander.post("cases", body(city, category=city.categories["litter"].id, severity="low"))
    assert response.status_code == 201
    assert (response.json()["category_id"], response.json()["severity"]) == (city.categories["litter"].id, "low")


def test_a_point_outside_the_district_is_accepted_and_flagged(city, commander):
    response = commander.post("cases", body(city, lat=31.2, lon=121.5))
    assert response.status_code == 201
    assert (response.json()["grid_id"], response.json()["outside_area"]) == (None, True)


@pytest.mark.parametrize("role", ["worker", "device"])
def test_field_workers_and_devices_may_report(city, api_as, role):
    client = api_as(role, city.workers[0] if role == "worker" else None)
    assert client.post("cases", body(city, source="app" if role == "worker" else "sensor")).status_code == 201


@pytest.mark.parametrize(
    "change",
    [
        {"category": "01"},  # a 大类
        {"category": "9999"},
        {"category": 10**6},
        {"lat": 91},
        {"lon": -181},
        {"lat": "NaN"},
        {"title": ""},
        {"title": "x" * 201},
        {"title": "a\x00b"},
        {"source": "fax"},
        {"severity": "extreme"},
        {"unknown": 1},
        {"urgent": "maybe"},
    ],
)
def test_a_bad_report_is_refused_and_nothing_is_stored(city, commander, change):
    response = commander.post("cases", body(city, **change))
    assert response.status_code == 400, response.content
    assert response.json()["error"] == "invalid" and response.json()["detail"]
    assert Case.objects.count() == 0


def test_a_report_missing_its_place_is_refused(city, commander):
    report = body(city)
    del report["lat"]
    response = commander.post("cases", report)
    assert response.status_code == 400
    assert any("lat" in err["loc"] for err in response.json()["detail"])
