"""Every action × every status through the HTTP API: allowed ones move the case, the rest are refused with 409."""

from __future__ import annotations

import pytest

from dispatchd import workflow
from dispatchd.models import Case, CaseStatus
from tests.dispatchd.helpers import act, case_in, snapshot, step_params

S = CaseStatus
IN_HANDS = {S.DISPATCHED, S.HANDLING}
OPEN = {S.REPORTED, S.ACCEPTED, S.REGISTERED, S.DISPATCHED, S.HANDLING, S.FEEDBACK, S.VERIFIED}

# The loop of DESIGN.md, written out independently of the workflow: action → (allowed from, leads to).
# None as the target means "stays where it is"; resume returns to the status before suspension.
TABLE: dict[str, tuple[set[str], str | None]] = {
    "accept": ({S.REPORTED}, S.ACCEPTED),
    "void": ({S.REPORTED, S.ACCEPTED}, S.VOIDED),
    "merge": ({S.REPORTED, S.ACCEPTED, S.REGISTERED}, S.MERGED),
    "register": ({S.ACCEPTED}, S.REGISTERED),
    "dispatch": ({S.REGISTERED}, S.DISPATCHED),
    "redispatch": (IN_HANDS, S.DISPATCHED),
    "handle": ({S.DISPATCHED}, S.HANDLING),
    "feedback": (IN_HANDS, S.FEEDBACK),
    "verify": ({S.FEEDBACK}, S.VERIFIED),
    "rework": ({S.FEEDBACK, S.VERIFIED}, S.DISPATCHED),
    "close": ({S.FEEDBACK, S.VERIFIED}, S.CLOSED),
    "evaluate": ({S.CLOSED}, S.EVALUATED),
    "return": (IN_HANDS, S.REGISTERED),
    "extend_request": (IN_HANDS, None),
    "extend_approve": (IN_HANDS, None),
    "extend_reject": (IN_HANDS, None),
    "suspend": (IN_HANDS, S.SUSPENDED),
    "resume": ({S.SUSPENDED}, S.DISPATCHED),
    "supervise": (OPEN | {S.SUSPENDED}, None),
}
CELLS = [(status, name) for status in S.values for name in TABLE]


def test_workflow_table_is_the_designed_loop() -> None:
    assert {name: spec.sources for name, spec in workflow.ACTIONS.items()} == {
        name: frozenset(sources) for name, (sources, _) in TABLE.items()
    }


@pytest.mark.parametrize(("status", "action"), CELLS, ids=[f"{a}-from-{s}" for s, a in CELLS])
def test_action_from_status_is_allowed_or_refused_as_the_table_says(city, commander, events, status, action):
    case = case_in(city, status)
    sources, target = TABLE[action]
    if action in ("extend_approve", "extend_reject") and status in sources:
        act(city, case, "extend_request", hours=2, note="more time")
    params = step_params(city, action, case)
    before = snapshot(case)
    events.clear()

    with events.committing():
        response = commander.act(case.id, action, **params)

    if status in sources:
        assert response.status_code == 200, response.json()
        assert response.json()["status"] == (target or status)
        after = Case.objects.get(pk=case.pk)
        assert after.version == before["row"]["version"] + 1
        entry = after.timeline.last()
        assert (entry.action, entry.from_status, entry.to_status) == (action, status, after.status)
        assert f"case.{action}" in events.types()
    else:
        assert response.status_code == 409
        body = response.json()
        assert body["error"] == "transition_refused"
        assert f"cannot {action} a case that is {status}" in body["detail"]
        assert snapshot(case) == before
        assert events.types() == []
