"""GET /api/cases/{id} and its timeline; actions through the API with roles and 404s."""

from __future__ import annotations

from dispatchd.models import CaseStatus
from tests.dispatchd.helpers import case_in, report


def test_detail_shows_the_case_and_the_actions_allowed_now(city, commander):
    case = case_in(city, CaseStatus.FEEDBACK)
    detail = commander.get(f"cases/{case.id}").json()
    assert (detail["id"], detail["status"], detail["worker_id"]) == (case.id, "feedback", city.workers[1].id)
    assert set(detail["allowed_actions"]) == {"verify", "rework", "close", "supervise"}


def test_the_timeline_lists_every_step_with_who_and_when(city, commander):
    case = case_in(city, CaseStatus.DISPATCHED)
    entries = commander.get(f"cases/{case.id}/timeline").json()
    assert [(e["action"], e["from_status"], e["to_status"]) for e in entries] == [
        ("report", "", "reported"),
        ("accept", "reported", "accepted"),
        ("register", "accepted", "registered"),
        ("dispatch", "registered", "dispatched"),
    ]
    assert all(e["actor"] == "commander:duty1" and e["at"] for e in entries)
    assert entries[-1]["data"]["worker"] == city.workers[1].id


def test_an_action_through_the_api_is_written_under_the_callers_name(city, api_as):
    case = case_in(city, CaseStatus.DISPATCHED)
    response = api_as("worker", city.workers[1]).act(case.id, "handle", note="到场")
    assert response.status_code == 200 and response.json()["status"] == "handling"
    assert case.timeline.last().actor == "worker:test-worker"


def test_an_action_may_be_posted_without_a_body(city, commander):
    case = report(city)
    response = commander.client.post(f"/api/cases/{case.id}/actions/accept", "", content_type="application/json")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "accepted"


def test_unknown_cases_and_actions_are_404(city, commander):
    case = report(city)
    assert commander.get("cases/999999").status_code == 404
    assert commander.get("cases/999999/timeline").json()["error"] == "not_found"
    assert commander.act(999999, "accept").status_code == 404
    response = commander.act(case.id, "teleport")
    assert (response.status_code, response.json()["error"]) == (404, "not_found")


def test_a_worker_cannot_see_or_act_on_someone_elses_case(city, api_as):
    case = case_in(city, CaseStatus.DISPATCHED)  # worker 1's
    other = api_as("worker", city.workers[2])
    assert other.get(f"cases/{case.id}").status_code == 404
    assert other.get(f"cases/{case.id}/timeline").status_code == 404
    response = other.act(case.id, "handle")
    assert (response.status_code, response.json()["error"]) == (403, "forbidden")
    assert case.timeline.count() == 4


def test_bad_action_parameters_are_refused_with_400(city, commander):
    case = case_in(city, CaseStatus.CLOSED)
    for params in ({"score": 9}, {"score": "five"}, {"teleport": True}, {"hours": float("inf")}):
        response = commander.act(case.id, "evaluate", **params)
        assert response.status_code == 400, params
    assert commander.get(f"cases/{case.id}").json()["status"] == "closed"
