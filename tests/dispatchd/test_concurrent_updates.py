"""Concurrency on one case: a stale read is refused, crossed merges cannot both succeed."""

from __future__ import annotations

from functools import partial

import pytest
from django.db.models import F

from dispatchd import workflow
from dispatchd.errors import ConcurrentUpdate, DomainError
from dispatchd.models import Case, CaseStatus
from tests.dispatchd.helpers import act, race, report, snapshot


def test_a_transition_that_read_a_stale_version_is_refused_and_changes_nothing(city, monkeypatch, events):
    case = report(city)
    accept = workflow.ACTIONS["accept"]

    def meanwhile_someone_else_writes(case, params, actor, now):
        Case.objects.filter(pk=case.pk).update(version=F("version") + 1)
        return accept.apply(case, params, actor, now)

    monkeypatch.setitem(workflow.ACTIONS, "accept", workflow.Action(
        "accept", accept.sources, accept.roles, meanwhile_someone_else_writes, accept.label
    ))
    before = snapshot(case)
    events.clear()
    with events.committing(), pytest.raises(ConcurrentUpdate):
        act(city, case, "accept")
    assert snapshot(case) == before  # the other write was rolled back with ours: nothing changed
    assert events.types() == []


@pytest.mark.django_db(transaction=True)
def test_two_cases_merged_into_each_other_at_once_cannot_both_merge(city):
    for _ in range(5):
        first, second = report(city, cell=0), report(city, cell=1)
        outcomes = race(
            partial(act, city, first, "merge", into=second.id),
            partial(act, city, second, "merge", into=first.id),
        )
        merged = [o for o in outcomes if isinstance(o, Case)]
        assert len(merged) == 1, outcomes
        refused = next(o for o in outcomes if not isinstance(o, Case))
        assert isinstance(refused, DomainError) and refused.status == 409
        statuses = sorted(Case.objects.filter(pk__in=[first.pk, second.pk]).values_list("status", flat=True))
        assert statuses == [CaseStatus.MERGED, CaseStatus.REPORTED]
