"""Duplicate suggestion (same category, 50 m, 24 h) on creation, and merge linking both timelines."""

from __future__ import annotations

import pytest

from dispatchd.errors import TransitionRefused
from dispatchd.models import CaseStatus
from tests.dispatchd.helpers import act, report, snapshot

METRE = 1 / 111_195  # degrees of latitude per metre


def test_same_category_within_50_m_and_24_h_is_suggested(city, clock):
    first = report(city)
    clock.advance(hours=23)
    lat, lon = city.point_in(0)
    second = report(city, lat=lat + 40 * METRE, lon=lon)
    assert [(d["id"], d["number"]) for d in second.duplicate_candidates] == [(first.id, first.number)]
    assert 39 < second.duplicate_candidates[0]["distance_m"] < 41
    assert second.timeline.get().data["duplicates"] == second.duplicate_candidates


def test_older_farther_other_category_or_finished_cases_are_not_suggested(city, clock):
    lat, lon = city.point_in(0)
    report(city)
    clock.advance(hours=24, seconds=1)  # the first case is now older than a day
    report(city, category="manhole")
    act(city, report(city), "void", note="误报")
    report(city, lat=lat + 60 * METRE, lon=lon)
    assert report(city).duplicate_candidates == []


def test_merge_links_the_two_cases_on_both_timelines(city, events):
    original = report(city)
    duplicate = report(city)
    assert duplicate.duplicate_candidates[0]["id"] == original.id
    with events.committing():
        merged = act(city, duplicate, "merge", into=duplicate.duplicate_candidates[0]["number"], note="同一点位")
    assert (merged.status, merged.merged_into_id) == (CaseStatus.MERGED, original.id)
    assert merged.timeline.last().data == {"into": original.number}
    entry = original.timeline.last()
    assert (entry.action, entry.data, entry.note) == ("merge_in", {"merged_case": duplicate.number}, "同一点位")
    assert events.types() == ["case.merged_in", "case.merge"]


def test_merge_into_a_finished_case_is_refused(city):
    target = act(city, report(city), "void", note="误报")
    case = report(city)
    before = snapshot(case)
    with pytest.raises(TransitionRefused, match="merge into a live case"):
        act(city, case, "merge", into=target.id)
    assert snapshot(case) == before
