"""Property-based: hostile inputs (random JSON, NUL, NaN, huge numbers, odd dates, giant bodies) never cause a 500."""

from __future__ import annotations

import json
import re
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dispatchd.models import CaseStatus
from tests.api.fuzz import INPUTS_TRIED, assert_below_500_and_json_errors
from tests.dispatchd.helpers import case_in
from wall.api import api

SCHEMA = api.get_openapi_schema()  # built once: building it takes ~0.3 s
PATHS = SCHEMA["paths"]
COMPONENTS = SCHEMA["components"]["schemas"]
GETS = [p for p, item in PATHS.items() if "get" in item]
POSTS = [p for p, item in PATHS.items() if "post" in item]
HOSTILE_SETTINGS = settings(
    max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

nasty_text = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["\x00", "a\x00b", "NaN", "Infinity", "-1", "0", "1e309", "9" * 40, "", " ", "%00", "../..", "😀"]),
)
nasty_number = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([2**53 + 1, 2**63, -(2**63) - 1, 10**30, 1e308]),
)
nasty_time = st.sampled_from(
    [
        "9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+23:59", "0001-01-01", "9999-12-31T23:59:59.999999Z",
        "2025-02-30T00:00:00Z", "2025-01-01T24:00:00Z", "1970-01-01T00:00:00Z", "2025-01-01T00:00:00+99:00",
        "1e20", "-1", "now",
    ]
)
leaf = st.one_of(st.none(), st.booleans(), nasty_number, nasty_text, nasty_time)
json_values = st.recursive(
    leaf, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(nasty_text, inner, max_size=4), max_leaves=12
)


def concrete(path: str, value: str = "1") -> str:
    """`path` with its {parameters} filled in."""
    return re.sub(r"\{[^}]+\}", value, path)


def tally(name: str) -> None:
    """Count one input tried against `name`."""
    INPUTS_TRIED[name] += 1


def assert_not_a_server_error(response) -> None:
    """Below 500, and JSON when it is an error."""
    assert_below_500_and_json_errors(response.status_code, response.content)


@pytest.fixture
def admin(city, api_as):
    """An admin client, with a case in hand so that id 1-ish paths reach real rows."""
    case_in(city, CaseStatus.HANDLING)
    return api_as("admin")


def fields_of(schema_ref: dict) -> list[str]:
    """Names of the properties a body schema declares (resolving one $ref)."""
    ref = schema_ref.get("$ref", "")
    return list(COMPONENTS.get(ref.split("/")[-1], {}).get("properties", {}))


def query_names(path: str) -> list[str]:
    """The query parameters the GET operation at `path` declares, plus one it does not."""
    declared = [p["name"] for p in PATHS[path]["get"].get("parameters", []) if p["in"] == "query"]
    return declared + ["undeclared"]


hostile_value = st.one_of(nasty_time, nasty_text, nasty_number.map(str))


@pytest.mark.parametrize("path", GETS)
@HOSTILE_SETTINGS
@given(data=st.data(), segment=nasty_text)
def test_any_query_string_or_path_parameter_is_answered_below_500(admin, path, data, segment):
    names = query_names(path)
    query = data.draw(st.dictionaries(st.sampled_from(names), hostile_value, min_size=1, max_size=len(names)))
    tally(f"GET {path} (hostile query/path)")
    assert_not_a_server_error(admin.client.get(concrete(path), query))
    if "{" in path:
        assert_not_a_server_error(admin.client.get(concrete(path, quote(segment, safe="") or "x")))


@pytest.mark.parametrize("path", POSTS)
@HOSTILE_SETTINGS
@given(body=json_values, data=st.data())
def test_any_json_body_is_answered_below_500(admin, path, body, data):
    tally(f"POST {path} (hostile JSON)")
    assert_not_a_server_error(admin.client.post(concrete(path), json.dumps(body), content_type="application/json"))
    # The declared fields with hostile values: deeper than a random shape gets.
    operation = PATHS[path]["post"]
    ref = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
    names = fields_of(ref)
    if names:
        shaped = {name: data.draw(json_values) for name in names}
        if "items" in names:
            shaped["items"] = data.draw(st.lists(st.dictionaries(nasty_text | st.sampled_from(
                ["worker_id", "lat", "lon", "at", "sensor", "value"]), leaf, max_size=6), max_size=3))
        tally(f"POST {path} (hostile fields)")
        assert_not_a_server_error(
            admin.client.post(concrete(path), json.dumps(shaped), content_type="application/json")
        )


@pytest.mark.parametrize("action", ["accept", "dispatch", "merge", "feedback", "extend_request", "evaluate"])
@HOSTILE_SETTINGS
@given(params=st.dictionaries(st.sampled_from(["note", "department", "assist_departments", "worker", "into",
                                               "passed", "hours", "score", "severity", "urgent", "attachments"]),
                              json_values, max_size=5))
def test_any_action_parameters_on_a_live_case_are_answered_below_500(city, admin, action, params):
    case = case_in(city, CaseStatus.HANDLING)
    tally(f"POST /api/cases/{{case_id}}/actions/{action} (hostile params)")
    assert_not_a_server_error(admin.act(case.id, action, **params))


@pytest.mark.parametrize("path", POSTS)
def test_an_oversize_body_is_a_413_on_every_write(admin, settings, path):
    settings.WALL_MAX_BODY_BYTES = 64 * 1024
    tally(f"POST {path} (oversize)")
    response = admin.client.post(concrete(path), b"{" + b" " * (65 * 1024) + b"}", content_type="application/json")
    assert response.status_code == 413 and response.json()["error"] == "too_large"


EXTREME_TIMES = ["9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+23:59", "0001-01-01", "2025-01-01T00:00:00+15:00"]


@pytest.mark.parametrize("moment", EXTREME_TIMES)
def test_timestamps_a_database_cannot_hold_are_400s_everywhere(city, admin, moment):
    worker = city.workers[0].id
    item = {"worker_id": worker, "lat": 22.7, "lon": 114.3, "at": moment}
    for response in (
        admin.get("cases", {"since": moment}),
        admin.get(f"workers/{worker}/trail", {"from": moment}),
        admin.get(f"workers/{worker}/trail", {"to": moment}),
        admin.post("positions", {"items": [item]}),
        admin.post("sensors/readings", {"items": [{"sensor": "S", "value": 1, "at": moment}]}),
    ):
        assert (response.status_code, response.json()["error"]) == (400, "invalid")


@pytest.mark.parametrize(
    ("path", "name"),
    [("cases", "severity"), ("cases", "source"), ("cases", "q"), ("cases", "bbox"), ("alarms", "state")],
)
def test_nul_characters_in_query_strings_are_400s(admin, path, name):
    response = admin.get(path, {name: "a\x00b"})
    assert (response.status_code, response.json()["error"]) == (400, "invalid")
