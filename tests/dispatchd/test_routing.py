"""Routing on register: category (+ street or grid) → department; a manual override is on the timeline."""

from __future__ import annotations

from dispatchd.models import CaseStatus, RoutingRule
from tests.dispatchd.helpers import act, case_in


def test_register_routes_by_category_default(city):
    case = case_in(city, CaseStatus.REGISTERED, cell=0)  # street 0: no street rule for litter
    assert (case.department_id, case.routed_by_rule) == (city.departments["ENV"].id, True)
    assert case.timeline.last().data["routing"] == "category default"


def test_a_street_rule_beats_the_category_default(city):
    case = case_in(city, CaseStatus.REGISTERED, cell=2)  # street 1 has a litter rule → 环卫一班
    assert case.department_id == city.departments["ENV1"].id
    assert case.timeline.last().data["routing"].startswith("rule #")


def test_a_grid_rule_beats_a_street_rule_and_priority_breaks_ties(city):
    litter = city.categories["litter"]
    RoutingRule.objects.create(category=litter, grid=city.cells[3], department=city.departments["LAW"])
    RoutingRule.objects.create(category=litter, street=city.streets[1], department=city.departments["GAS"], priority=5)
    assert case_in(city, CaseStatus.REGISTERED, cell=3).department_id == city.departments["LAW"].id
    assert case_in(city, CaseStatus.REGISTERED, cell=2).department_id == city.departments["GAS"].id


def test_no_rule_and_no_default_leaves_the_choice_to_the_commander(city):
    case = case_in(city, CaseStatus.REGISTERED, category="untimed")
    assert (case.department_id, case.routed_by_rule) == (None, False)
    case = act(city, case, "dispatch", department=city.departments["LAW"].id)
    assert "override" not in case.timeline.last().data


def test_dispatch_follows_the_routed_department_when_none_is_named(city):
    case = act(city, case_in(city, CaseStatus.REGISTERED, cell=2), "dispatch")
    assert case.department_id == city.departments["ENV1"].id
    assert "override" not in case.timeline.last().data


def test_a_manual_override_at_dispatch_is_recorded_on_the_timeline(city):
    case = case_in(city, CaseStatus.REGISTERED, cell=2)
    case = act(city, case, "dispatch", department=city.departments["LAW"].id, note="执法队处理")
    entry = case.timeline.last()
    assert entry.data["override"] == {"routed": city.departments["ENV1"].id, "chosen": city.departments["LAW"].id}
    assert entry.note == "执法队处理"
