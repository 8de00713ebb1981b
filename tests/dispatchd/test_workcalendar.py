"""Working-hours arithmetic: lunch breaks, weekends, statutory holidays and 调休 weekend workdays."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dispatchd.workcalendar import WorkCalendar, parse_ranges

SH = ZoneInfo("Asia/Shanghai")
NATIONAL_DAY = {date(2025, 10, d) for d in range(1, 9)}  # 1–8 October 2025 off
SWAPPED = {date(2025, 9, 28), date(2025, 10, 11)}  # Sunday and Saturday worked instead (调休)


def at(day: int, hour: int, minute: int = 0, month: int = 10) -> datetime:
    """A moment of 2025 in Shanghai."""
    return datetime(2025, month, day, hour, minute, tzinfo=SH)


@pytest.fixture
def calendar() -> WorkCalendar:
    """08:30–12:00 and 14:00–18:00 on workdays, with National Day 2025 and its swapped workdays."""
    return WorkCalendar(parse_ranges("08:30-12:00,14:00-18:00"), SH, NATIONAL_DAY, SWAPPED)


def test_hours_skip_the_lunch_break(calendar):
    assert calendar.add_working_hours(at(9, 11), 2) == at(9, 15)


def test_hours_started_after_work_begin_next_morning(calendar):
    assert calendar.add_working_hours(at(9, 20), 1) == at(10, 9, 30)


def test_a_weekend_is_skipped(calendar):
    assert calendar.add_working_hours(at(17, 17), 2) == at(20, 9, 30)  # Friday → Monday


def test_the_holiday_week_is_skipped(calendar):
    assert calendar.add_working_hours(at(30, 17, month=9), 8) == at(9, 17, 30)


def test_a_swapped_saturday_is_worked(calendar):
    assert calendar.is_workday(date(2025, 10, 11)) and not calendar.is_workday(date(2025, 10, 3))
    assert calendar.add_working_hours(at(10, 17), 2) == at(11, 9, 30)


def test_hours_between_counts_only_working_time(calendar):
    assert calendar.working_hours_between(at(30, 17, month=9), at(9, 9, 30)) == 2.0
    assert calendar.working_hours_between(at(9, 12), at(9, 14)) == 0.0
    assert calendar.working_hours_between(at(9, 15), at(9, 10)) == 0.0


def test_a_range_ending_before_it_starts_is_refused():
    with pytest.raises(ValueError):
        parse_ranges("18:00-08:00")


@settings(max_examples=200, deadline=None, database=None)
@given(
    start=st.datetimes(min_value=datetime(2025, 9, 1), max_value=datetime(2025, 12, 31)),
    minutes=st.integers(min_value=0, max_value=60 * 60),
)
def test_adding_hours_then_measuring_them_gives_them_back(start, minutes):
    calendar = WorkCalendar(parse_ranges("08:30-12:00,14:00-18:00"), SH, NATIONAL_DAY, SWAPPED)
    begin = start.replace(tzinfo=SH)
    end = calendar.add_working_hours(begin, minutes / 60)
    assert end >= begin
    assert abs(calendar.working_hours_between(begin, end) - minutes / 60) < 1e-9
    assert end - begin >= timedelta(minutes=minutes)
