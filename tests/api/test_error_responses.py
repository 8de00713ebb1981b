"""Every error of the API is JSON {"error": code, "detail": ...} with the right status, never a 500 or HTML."""

from __future__ import annotations

import pytest
from django.test import Client

from dispatchd.models import Case, CaseStatus
from tests.dispatchd.helpers import case_in


def assert_error(response, status: int, code: str | None = None) -> dict:
    """The response is a JSON error of `status` (and `code`)."""
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error", "detail"} and body["detail"]
    if code:
        assert body["error"] == code
    return body


def test_400_401_403_404_409_413_are_json_errors(city, commander, api_as, settings):
    case = case_in(city, CaseStatus.CLOSED)
    assert_error(commander.post("cases", {"title": "x"}), 400, "invalid")
    assert_error(Client().get("/api/cases"), 401, "unauthenticated")
    assert_error(api_as("wall").act(case.id, "evaluate", score=3), 403, "forbidden")
    assert_error(commander.get("cases/424242"), 404, "not_found")
    assert_error(commander.act(case.id, "accept"), 409, "transition_refused")
    settings.WALL_MAX_BODY_BYTES = 100
    assert_error(commander.post("cases", {"title": "x" * 200}), 413, "too_large")


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"{not json", "application/json"),
        (b"\xff\xfe\x00", "application/json"),
        (b"[1, 2, 3]", "application/json"),
        (b'"text"', "application/json"),
        (b"null", "application/json"),
        (b'{"title": NaN}', "application/json"),
        (b"title=x", "application/x-www-form-urlencoded"),
        (b"--x\r\nbroken", "multipart/form-data; boundary=x"),
        (b"--x\r\nbroken", "multipart/form-data"),
        (b"<case/>", "application/xml"),
    ],
)
def test_a_body_that_cannot_be_read_is_a_400(city, commander, body, content_type):
    response = commander.client.post("/api/cases", body, content_type=content_type)
    assert_error(response, 400)
    assert Case.objects.count() == 0


@pytest.mark.parametrize("length", ["ten", "-1", "1e3"])
def test_a_content_length_that_is_not_a_size_is_a_400(city, commander, length):
    response = commander.client.post("/api/cases", b"{}", content_type="application/json", CONTENT_LENGTH=length)
    assert_error(response, 400, "bad_request")


@pytest.mark.parametrize(
    "path",
    [
        "/api/", "/api/nowhere", "/api/cases/abc", "/api/cases/-1", "/api/cases/1/actions", "/api/cases/" + "9" * 30,
        # A newline in the address (%0A), where no operation matches: once Django's HTML 404, found by the fuzzer.
        "/api/%0A", "/api/cases%0A", "/api/workers/%2F%0A/live", "/api/nowhere/%0A/deeper",
    ],
)
def test_unknown_addresses_under_the_api_are_json(city, commander, path):
    response = commander.client.get(path)
    assert response.status_code in (400, 404)
    assert_error(response, response.status_code)


def test_a_wrong_method_is_a_405_naming_the_allowed_ones(city, commander):
    response = commander.client.delete("/api/cases")
    assert response.status_code == 405 and set(response["Allow"].split(", ")) == {"GET", "POST"}
