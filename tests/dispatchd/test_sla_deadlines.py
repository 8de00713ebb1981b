"""SLA deadlines: per-stage limits in calendar or working hours, urgent limits, pause, resume, extension."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from dispatchd.models import Case, CaseStatus, Holiday
from dispatchd.sla import DEFAULT_LIMITS
from tests.dispatchd.helpers import act, case_in, report

SH = ZoneInfo("Asia/Shanghai")
S = CaseStatus


def at(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    """A moment of 2025 in Shanghai."""
    return datetime(2025, month, day, hour, minute, tzinfo=SH)


def moments(case: Case) -> tuple[datetime | None, datetime | None, datetime | None]:
    """(warn_at, deadline, escalate_at) as stored."""
    case = Case.objects.get(pk=case.pk)
    return case.warn_at, case.deadline, case.escalate_at


@pytest.fixture
def national_day(db) -> None:
    """The 2025 National Day holidays and their swapped weekend workdays."""
    for day in range(1, 9):
        Holiday.objects.create(date=date(2025, 10, day), name="国庆")
    for swapped in (date(2025, 9, 28), date(2025, 10, 11)):
        Holiday.objects.create(date=swapped, name="调休", is_workday=True)


def test_each_stage_gets_its_own_stored_deadline(city, clock):
    case = report(city, category="manhole")  # working hours, Tuesday 09:00
    stages = []
    for action in ["accept", "register", "dispatch", "handle", "feedback", "verify", "close"]:
        params = {"department": city.departments["ROAD"].id} if action == "dispatch" else {"note": "ok"}
        case = act(city, case, action, **params)
        stored = Case.objects.get(pk=case.pk)
        stages.append((stored.status, stored.stage, stored.stage_limit_h, stored.deadline is not None))
    assert stages == [
        (S.ACCEPTED, "register", DEFAULT_LIMITS["register"], True),
        (S.REGISTERED, "dispatch", DEFAULT_LIMITS["dispatch"], True),
        (S.DISPATCHED, "handle", 8.0, True),
        (S.HANDLING, "handle", 8.0, True),
        (S.FEEDBACK, "verify", DEFAULT_LIMITS["verify"], True),
        (S.VERIFIED, "close", DEFAULT_LIMITS["close"], True),
        (S.CLOSED, "", None, False),
    ]


def test_calendar_hours_warn_at_80_percent_and_escalate_at_twice_the_limit(city, clock):
    case = case_in(city, S.DISPATCHED)  # litter: 4 calendar hours to handle
    assert moments(case) == (at(9, 30, 12, 12), at(9, 30, 13), at(9, 30, 17))
    assert (case.sla_state, case.stage_started_at) == ("ok", at(9, 30, 9))


def test_handling_and_redispatch_keep_the_running_clock(city, clock):
    case = case_in(city, S.DISPATCHED)
    clock.advance(hours=1)
    case = act(city, act(city, case, "handle"), "redispatch", department=city.departments["ENV1"].id)
    assert moments(case)[1] == at(9, 30, 13)


def test_urgent_cases_use_the_urgent_limits(city, clock):
    case = case_in(city, S.DISPATCHED, urgent=True)  # litter: 1 hour when urgent
    assert moments(case) == (at(9, 30, 9, 48), at(9, 30, 10), at(9, 30, 11))


def test_register_can_make_a_case_urgent(city, clock):
    case = act(city, report(city), "accept")
    case = act(city, act(city, case, "register", urgent=True), "dispatch")
    assert moments(case)[1] == at(9, 30, 10)


def test_working_hours_skip_nights_holidays_and_count_swapped_workdays(city, clock, national_day):
    clock.now = at(9, 30, 17)
    case = case_in(city, S.DISPATCHED, category="manhole")  # 8 working hours, from Tuesday 17:00
    warn, deadline, escalate = moments(case)
    assert warn == at(10, 9, 15, 54)  # 1 h on 30 Sept, holidays, then 5.4 h on Thursday 9 Oct
    assert deadline == at(10, 9, 17, 30)
    assert escalate == at(10, 10, 18)  # 16 h: Thursday and Friday
    clock.now = at(10, 10, 17)
    later = case_in(city, S.DISPATCHED, category="manhole")
    assert moments(later)[1] == at(10, 11, 17, 30)  # 1 h on Friday, 7 h on Saturday 11 Oct (调休)


def test_an_untimed_category_has_no_deadlines(city, clock):
    case = case_in(city, S.DISPATCHED, category="untimed")
    assert moments(case) == (None, None, None) and case.sla_state == "none"


def test_suspend_stops_the_clock_and_resume_continues_it(city, clock):
    case = case_in(city, S.DISPATCHED)  # 4 h from 09:00
    clock.advance(hours=1)
    case = act(city, case, "suspend", note="等待审批")
    assert moments(case) == (None, None, None)
    clock.advance(hours=5)  # 15:00; five suspended hours do not count
    case = act(city, case, "resume")
    assert moments(case) == (at(9, 30, 17, 12), at(9, 30, 18), at(9, 30, 22))


def test_a_second_suspension_does_not_count_the_first_pause(city, clock):
    case = case_in(city, S.DISPATCHED)  # 4 h from 09:00
    clock.advance(hours=1)
    case = act(city, case, "suspend", note="第一次挂账")
    clock.advance(hours=5)
    case = act(city, case, "resume")  # 15:00, 1 h used
    clock.advance(hours=1)
    case = act(city, case, "suspend", note="第二次挂账")  # 16:00, 2 h used
    clock.advance(hours=4)
    case = act(city, case, "resume")  # 20:00
    assert moments(case)[1] == at(9, 30, 22)


def test_working_hours_pause_and_resume(city, clock, national_day):
    case = case_in(city, S.DISPATCHED, category="manhole")  # 8 working hours from Tuesday 09:00
    clock.now = at(9, 30, 11)  # 2 h used
    case = act(city, case, "suspend", note="等待审批")
    clock.now = at(10, 9, 8, 30)
    case = act(city, case, "resume")  # 6 h left from Thursday 08:30
    assert moments(case)[1] == at(10, 9, 16, 30)


def test_an_approved_extension_lengthens_the_stage(city, clock):
    case = case_in(city, S.HANDLING)  # 4 h from 09:00
    case = act(city, case, "extend_request", hours=2, note="等材料")
    assert moments(case)[1] == at(9, 30, 13)  # a request alone changes nothing
    case = act(city, case, "extend_approve")
    assert moments(case) == (at(9, 30, 13, 48), at(9, 30, 15), at(9, 30, 21))
    assert Case.objects.get(pk=case.pk).stage_limit_h == 6


def test_an_extension_after_a_pause_counts_from_where_the_clock_is(city, clock):
    case = case_in(city, S.HANDLING)  # 4 h from 09:00
    clock.advance(hours=1)
    case = act(city, case, "suspend", note="等待审批")
    clock.advance(hours=2)
    case = act(city, case, "resume")  # 12:00, 1 h used: deadline 15:00
    case = act(city, act(city, case, "extend_request", hours=2, note="等材料"), "extend_approve")
    assert moments(case)[1] == at(9, 30, 17)


def test_an_extension_granted_after_the_deadline_brings_the_case_back_on_time(city, clock):
    case = case_in(city, S.HANDLING)  # deadline 13:00
    clock.advance(hours=4, minutes=30)
    case = act(city, act(city, case, "extend_request", hours=8, note="大修"), "extend_approve")
    stored = Case.objects.get(pk=case.pk)
    assert (stored.deadline, stored.sla_state) == (at(9, 30, 21), "ok")


def test_reopened_work_starts_a_fresh_clock(city, clock):
    case = case_in(city, S.FEEDBACK)
    clock.advance(hours=2)
    case = act(city, case, "rework", note="返工")
    assert moments(case)[1] == at(9, 30, 15) and case.stage == "handle"
    assert Case.objects.get(pk=case.pk).stage_started_at == clock.now


def test_a_stage_in_working_hours_reads_the_holiday_table_once_for_its_three_moments(city, clock, national_day):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        case = report(city, category="manhole")  # working hours
    holiday_reads = [q["sql"] for q in queries.captured_queries if "dispatchd_holiday" in q["sql"]]
    assert len(holiday_reads) == 1
    warn, deadline, escalate = moments(case)
    assert warn < deadline < escalate
