"""The timer daemon fires warning (80 %), overdue (100 %) and escalation (2×) exactly once each."""

from __future__ import annotations

import importlib
from datetime import timedelta

import pytest
from django.db import connections

import dispatchd.timers
from dispatchd.daemon import tick
from dispatchd.models import Case, CaseStatus
from tests.dispatchd.helpers import act, case_in, race

SECOND = timedelta(seconds=1)
SLA_ACTIONS = ("sla_warning", "sla_overdue", "sla_escalated")


def fired(case: Case) -> list[str]:
    """The SLA steps on the case's timeline, in order."""
    return list(case.timeline.filter(action__in=SLA_ACTIONS).values_list("action", flat=True))


def test_each_step_fires_when_due_and_only_once(city, clock, events):
    case = case_in(city, CaseStatus.HANDLING)
    check = dispatchd.timers.check_timers
    with events.committing():
        assert check(case.warn_at - SECOND) == 0
        assert check(case.warn_at) == 1
        assert check(case.warn_at) == 0
        assert Case.objects.get(pk=case.pk).sla_state == "warning"
        assert check(case.deadline - SECOND) == 0
        assert check(case.deadline) == 1
        assert check(case.escalate_at - SECOND) == 0
        assert check(case.escalate_at) == 1
        assert check(case.escalate_at + timedelta(days=30)) == 0
    stored = Case.objects.get(pk=case.pk)
    assert (stored.sla_state, stored.supervise_count, stored.status) == ("escalated", 1, CaseStatus.HANDLING)
    assert fired(case) == list(SLA_ACTIONS)
    assert case.timeline.get(action="sla_escalated").note == "超时自动督办"
    assert [t for t in events.types() if t.startswith("case.sla")] == [f"case.{a}" for a in SLA_ACTIONS]


def test_a_late_daemon_fires_all_due_steps_in_order_in_one_pass(city, clock):
    case = case_in(city, CaseStatus.HANDLING)
    assert dispatchd.timers.check_timers(case.escalate_at + timedelta(hours=1)) == 3
    assert fired(case) == list(SLA_ACTIONS)


def test_a_suspended_case_does_not_fire_and_resumes_where_it_stopped(city, clock):
    case = case_in(city, CaseStatus.HANDLING)
    deadline = case.deadline
    clock.advance(hours=1)
    case = act(city, case, "suspend", note="挂账")
    assert dispatchd.timers.check_timers(deadline + timedelta(days=1)) == 0
    clock.advance(hours=10)
    case = act(city, case, "resume")
    assert dispatchd.timers.check_timers(deadline + timedelta(hours=9, seconds=59 * 60)) == 1  # warning only
    assert dispatchd.timers.check_timers(deadline + timedelta(hours=10)) == 1  # overdue, ten hours later
    assert fired(case) == ["sla_warning", "sla_overdue"]


def test_finished_or_untimed_cases_never_fire(city, clock):
    closed = case_in(city, CaseStatus.CLOSED)
    untimed = case_in(city, CaseStatus.HANDLING, category="untimed")
    assert dispatchd.timers.check_timers(clock.now + timedelta(days=365)) == 0
    assert fired(closed) == fired(untimed) == []


def test_a_new_stage_restarts_the_warnings(city, clock):
    case = case_in(city, CaseStatus.HANDLING)
    assert dispatchd.timers.check_timers(case.warn_at) == 1
    case = act(city, case, "feedback", note="已处置")
    assert Case.objects.get(pk=case.pk).sla_state == "ok"
    assert dispatchd.timers.check_timers(Case.objects.get(pk=case.pk).warn_at) == 1
    assert [e.data["stage"] for e in case.timeline.filter(action="sla_warning")] == ["handle", "verify"]


@pytest.mark.django_db(transaction=True)
def test_steps_fire_once_across_a_restart_of_the_daemon(city):
    case = case_in(city, CaseStatus.HANDLING)
    warn_at, deadline = case.warn_at, case.deadline
    assert dispatchd.timers.check_timers(warn_at) == 1

    connections.close_all()  # a restart: new connections, freshly imported code, state only in the database
    checker = importlib.reload(dispatchd.timers)
    assert Case.objects.get(pk=case.pk).warn_at == warn_at
    assert checker.check_timers(warn_at) == 0
    assert checker.check_timers(deadline - SECOND) == 0
    assert checker.check_timers(deadline) == 1
    connections.close_all()
    assert importlib.reload(dispatchd.timers).check_timers(deadline + SECOND) == 0
    assert fired(case) == ["sla_warning", "sla_overdue"]


@pytest.mark.django_db(transaction=True)
def test_two_daemons_checking_at_once_fire_each_step_once(city):
    cases = [case_in(city, CaseStatus.HANDLING) for _ in range(5)]
    due = max(c.warn_at for c in cases)
    counts = race(*[lambda: dispatchd.timers.check_timers(due)] * 2)
    assert all(isinstance(n, int) for n in counts) and sum(counts) == 5, counts
    assert [fired(c) for c in cases] == [["sla_warning"]] * 5


@pytest.mark.django_db(transaction=True)
def test_the_daemon_tick_uses_the_current_time(city, clock):
    case = case_in(city, CaseStatus.HANDLING)
    tick()
    assert fired(case) == []
    clock.now = case.warn_at
    tick()
    assert fired(case) == ["sla_warning"]
