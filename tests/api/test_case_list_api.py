"""GET /api/cases with filters: status, category, street, grid, severity, source, overdue, bbox, text, paging."""

from __future__ import annotations

import pytest

import dispatchd.timers
from dispatchd.models import CaseStatus
from tests.dispatchd.helpers import case_in, report


@pytest.fixture
def cases(city, clock) -> dict:
    """Five cases spread over the cells, statuses, categories and sources."""
    made = {
        "litter0": report(city, cell=0, title="桥下暴露垃圾", address="人民路1号"),
        "manhole1": report(city, cell=1, category="manhole", source="wechat"),
        "litter2": case_in(city, CaseStatus.HANDLING, cell=2, severity="major"),
        "litter3": report(city, cell=3, description="路口有垃圾堆积"),
        "outside": report(city, lat=30.0, lon=120.0),
    }
    dispatchd.timers.check_timers(made["litter2"].deadline)  # litter2 (and the 上报 ones) become overdue
    return made


def ids(response) -> set[int]:
    """The case ids of a list response."""
    assert response.status_code == 200, response.content
    return {item["id"] for item in response.json()["items"]}


def test_every_case_is_listed_newest_first_with_a_count(city, commander, cases):
    response = commander.get("cases")
    assert response.json()["count"] == 5
    assert [i["id"] for i in response.json()["items"]] == sorted((c.id for c in cases.values()), reverse=True)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"status": "handling"}, {"litter2"}),
        ({"status": ["handling", "reported"]}, {"litter0", "manhole1", "litter2", "litter3", "outside"}),
        ({"severity": "major"}, {"litter2"}),
        ({"source": "wechat"}, {"manhole1"}),
        ({"q": "桥下"}, {"litter0"}),
        ({"q": "堆积"}, {"litter3"}),
        ({"q": "人民路"}, {"litter0"}),
        ({"bbox": "114.30,22.70,114.32,22.71"}, {"litter0", "manhole1"}),
    ],
)
def test_filters_select_the_matching_cases(city, commander, cases, query, expected):
    assert ids(commander.get("cases", query)) == {cases[name].id for name in expected}


def test_the_text_filter_finds_a_case_number(city, commander, cases):
    assert ids(commander.get("cases", {"q": cases["litter3"].number})) == {cases["litter3"].id}


def test_filters_by_category_street_and_grid(city, commander, cases):
    assert ids(commander.get("cases", {"category": city.categories["manhole"].id})) == {cases["manhole1"].id}
    assert ids(commander.get("cases", {"street": city.streets[1].id})) == {cases["litter2"].id, cases["litter3"].id}
    assert ids(commander.get("cases", {"grid": city.cells[3].id})) == {cases["litter3"].id}


def test_the_overdue_filter_splits_late_and_on_time_cases(city, commander, cases):
    late = ids(commander.get("cases", {"overdue": "true"}))
    on_time = ids(commander.get("cases", {"overdue": "false"}))
    assert cases["litter2"].id in late and late.isdisjoint(on_time)
    assert late | on_time == {c.id for c in cases.values()}


def test_paging_walks_the_list(city, commander, cases):
    pages = [commander.get("cases", {"limit": 2, "offset": o}).json()["items"] for o in (0, 2, 4)]
    assert [len(p) for p in pages] == [2, 2, 1]
    assert len({i["id"] for p in pages for i in p}) == 5


@pytest.mark.parametrize(
    "query",
    [
        {"bbox": "1,2,3"},
        {"bbox": "a,b,c,d"},
        {"bbox": "114.32,22.70,114.30,22.71"},
        {"bbox": "nan,nan,nan,nan"},
        {"status": "lost"},
        {"limit": 0},
        {"limit": 10**6},
        {"grid": "x"},
        {"overdue": "perhaps"},
        {"since": "yesterday"},
    ],
)
def test_bad_filters_are_refused_with_400(city, commander, cases, query):
    response = commander.get("cases", query)
    assert response.status_code == 400 and response.json()["error"] == "invalid"


def test_a_worker_lists_only_the_cases_assigned_to_them(city, api_as, cases):
    worker = api_as("worker", city.workers[1])  # litter2 was dispatched to worker 1
    assert ids(worker.get("cases")) == {cases["litter2"].id}
    assert ids(api_as("worker", city.workers[2]).get("cases")) == set()


def test_the_wall_may_read_the_list(city, api_as, cases):
    assert len(ids(api_as("wall").get("cases"))) == 5
