"""SLA timers: per-stage limits from the category, warn/overdue/escalate moments, pause and resume.

The clock of a stage runs from `stage_started_at`; `paused_elapsed_h` holds the hours the stage had
used before that moment (set when a suspension stops the clock, kept when resuming restarts it), so
every suspension, resumption and extension counts from where the clock really is.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings

from dispatchd.models.cases import CaseStatus, SlaState
from dispatchd.models.catalog import Category, TimingMode
from dispatchd.workcalendar import WorkCalendar, load_calendar

# The stage whose timer runs while a case is in a status; statuses not listed are not timed.
STAGE_OF_STATUS: dict[str, str] = {
    CaseStatus.REPORTED: "accept",
    CaseStatus.ACCEPTED: "register",
    CaseStatus.REGISTERED: "dispatch",
    CaseStatus.DISPATCHED: "handle",
    CaseStatus.HANDLING: "handle",
    CaseStatus.FEEDBACK: "verify",
    CaseStatus.VERIFIED: "close",
}

# Used when a category says nothing about a stage (hours).
DEFAULT_LIMITS: dict[str, float] = {
    "accept": 0.5,
    "register": 1.0,
    "dispatch": 1.0,
    "handle": 8.0,
    "verify": 4.0,
    "close": 2.0,
}


def stage_limit(category: Category, urgent: bool, stage: str) -> float:
    """Hours allowed for `stage` of a case in `category` (urgent cases use their own limits)."""
    if urgent and stage in (category.urgent_limits or {}):
        return float(category.urgent_limits[stage])
    return float((category.limits or {}).get(stage, DEFAULT_LIMITS[stage]))


def add_hours(mode: str, start: datetime, hours: float, calendar: WorkCalendar | None) -> datetime:
    """`start` plus `hours` of the category's kind of time."""
    if mode == TimingMode.WORKING:
        return (calendar or load_calendar()).add_working_hours(start, hours)
    return start + timedelta(hours=hours)


def elapsed_hours(mode: str, start: datetime, end: datetime, calendar: WorkCalendar | None) -> float:
    """Hours of the category's kind of time between `start` and `end`."""
    if mode == TimingMode.WORKING:
        return (calendar or load_calendar()).working_hours_between(start, end)
    return max(0.0, (end - start).total_seconds() / 3600)


def _moments(mode: str, origin: datetime, limit_h: float, used_h: float, cal: WorkCalendar | None) -> dict:
    if cal is None and mode == TimingMode.WORKING:
        cal = load_calendar()  # once for the three moments (each load reads the holiday table)
    warn = settings.WALL_SLA_WARN_FRACTION * limit_h
    esc = settings.WALL_SLA_ESCALATE_FRACTION * limit_h
    return {
        "warn_at": add_hours(mode, origin, max(0.0, warn - used_h), cal),
        "deadline": add_hours(mode, origin, max(0.0, limit_h - used_h), cal),
        "escalate_at": add_hours(mode, origin, max(0.0, esc - used_h), cal),
    }


def _cleared() -> dict[str, Any]:
    return {
        "stage": "",
        "stage_started_at": None,
        "stage_limit_h": None,
        "warn_at": None,
        "deadline": None,
        "escalate_at": None,
        "sla_state": SlaState.NONE,
        "paused_elapsed_h": None,
    }


def timer_for(case, new_status: str, now: datetime, calendar: WorkCalendar | None = None) -> dict[str, Any]:
    """Field updates for the timer when `case` moves to `new_status` (empty when the stage goes on)."""
    stage = STAGE_OF_STATUS.get(new_status)
    if stage is None:
        return _cleared() if new_status != CaseStatus.SUSPENDED else {}
    if stage == case.stage and case.stage_started_at is not None:
        return {}
    category = case.category
    if category.timing == TimingMode.NONE:
        return _cleared()
    limit_h = stage_limit(category, case.urgent, stage)
    return {
        "stage": stage,
        "stage_started_at": now,
        "stage_limit_h": limit_h,
        "sla_state": SlaState.OK,
        "paused_elapsed_h": None,
        **_moments(category.timing, now, limit_h, 0.0, calendar),
    }


def _used_before(case) -> float:
    """Hours of the stage used before its clock last (re)started: zero unless it was suspended."""
    return case.paused_elapsed_h or 0.0


def pause(case, now: datetime, calendar: WorkCalendar | None = None) -> dict[str, Any]:
    """Field updates that stop the clock (suspend): remember how much of the stage was used."""
    if case.stage_started_at is None:
        return {}
    used = _used_before(case) + elapsed_hours(case.category.timing, case.stage_started_at, now, calendar)
    return {"paused_elapsed_h": used, "warn_at": None, "deadline": None, "escalate_at": None}


def resume(case, now: datetime, calendar: WorkCalendar | None = None) -> dict[str, Any]:
    """Field updates that restart a paused clock where it stopped (the hours used so far stay counted)."""
    if case.paused_elapsed_h is None or case.stage_limit_h is None:
        return {}
    return {
        "stage_started_at": now,
        **_moments(case.category.timing, now, case.stage_limit_h, case.paused_elapsed_h, calendar),
    }


def extend(case, hours: float, now: datetime, calendar: WorkCalendar | None = None) -> dict[str, Any]:
    """Field updates that lengthen the current stage by `hours` (an approved extension, 延期)."""
    if case.stage_started_at is None or case.stage_limit_h is None:
        return {}
    limit_h = case.stage_limit_h + hours
    mode = case.category.timing
    moments = _moments(mode, case.stage_started_at, limit_h, _used_before(case), calendar)
    state = SlaState.OK
    if now >= moments["escalate_at"]:
        state = SlaState.ESCALATED
    elif now >= moments["deadline"]:
        state = SlaState.OVERDUE
    elif now >= moments["warn_at"]:
        state = SlaState.WARNING
    return {"stage_limit_h": limit_h, "sla_state": state, **moments}
