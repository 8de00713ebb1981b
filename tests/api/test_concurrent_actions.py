"""Two transitions racing on one case through the API: exactly one wins, the other gets 409.

Each pair is chosen so that whichever runs first, the other is no longer allowed afterwards.
"""

from __future__ import annotations

from functools import partial

import pytest

from dispatchd.models import Case, CaseStatus
from tests.dispatchd.helpers import case_in, race, step_params

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize(
    ("status", "first", "second"),
    [
        (CaseStatus.REPORTED, "void", "merge"),
        (CaseStatus.REGISTERED, "dispatch", "merge"),
        (CaseStatus.REPORTED, "accept", "accept"),
        (CaseStatus.FEEDBACK, "close", "rework"),
        (CaseStatus.HANDLING, "suspend", "feedback"),
    ],
)
def test_racing_transitions_on_one_case_cannot_both_succeed(city, commander, status, first, second):
    for _ in range(5):
        case = case_in(city, status)
        entries_before = case.timeline.count()
        params = [step_params(city, name, case) for name in (first, second)]
        responses = race(
            partial(commander.act, case.id, first, **params[0]),
            partial(commander.act, case.id, second, **params[1]),
        )
        codes = sorted(r.status_code for r in responses)
        assert codes == [200, 409], [r.json() for r in responses]
        loser = next(r.json() for r in responses if r.status_code == 409)
        assert loser["error"] in ("transition_refused", "concurrent_update")
        stored = Case.objects.get(pk=case.pk)
        winner = next(r.json() for r in responses if r.status_code == 200)
        assert (stored.status, stored.version) == (winner["status"], winner["version"])
        assert stored.timeline.count() == entries_before + 1
