"""A week of past cases, played through the real intake and workflow on a simulated clock.

Demo only: this is how the demo backdates its history. While the simulated clock runs,
`django.utils.timezone.now()` returns the simulated moment, so every timestamp the domain writes
(created_at, timeline entries, SLA deadlines, closed_at, case numbers) lies in the past and agrees
with every other. Nothing outside the demo seed ever runs on this clock.
"""

from __future__ import annotations

import heapq
import logging
import math
import random
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from unittest import mock

from django.utils import timezone

from dispatchd import sla
from dispatchd.demo.policy import FINAL, IN_HANDS, Staff, next_move
from dispatchd.demo.reports import Scene, make_report, repeat_report
from dispatchd.errors import DomainError
from dispatchd.intake import create_case
from dispatchd.models import Case, CaseStatus
from dispatchd.timers import check_timers
from dispatchd.workcalendar import WorkCalendar, load_calendar
from dispatchd.workflow import perform

log = logging.getLogger("dispatchd.demo")

# Relative share of reports by hour of day: quiet nights, busy mornings and afternoons.
HOUR_WEIGHTS = (1, 1, 1, 1, 1, 2, 3, 6, 9, 10, 10, 9, 7, 6, 8, 9, 9, 8, 7, 7, 6, 4, 3, 2)
TIMER_STEP = timedelta(minutes=10)
REPEAT_SHARE = 0.06


class SimulatedClock:
    """A settable stand-in for timezone.now()."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


@contextmanager
def simulated_clock(start: datetime) -> Iterator[SimulatedClock]:
    """Demo only (backdating): make timezone.now() return the clock's moment while the block runs."""
    clock = SimulatedClock(start)
    with mock.patch.object(timezone, "now", clock):
        yield clock


def _arrival(rng: random.Random, start: datetime, days: int) -> datetime:
    day = rng.randrange(days)
    hour = rng.choices(range(24), weights=HOUR_WEIGHTS)[0]
    return start + timedelta(days=day, hours=hour, seconds=rng.uniform(0, 3600))


def next_step_at(rng: random.Random, case: Case, at: datetime, calendar: WorkCalendar) -> datetime:
    """When the case takes its next step: mostly well within the stage limit, now and then late. The
    command hall works around the clock; field units handle working-hours cases on working days."""
    if case.status == CaseStatus.CLOSED:
        return at + timedelta(hours=rng.uniform(1, 30))
    if case.status == CaseStatus.SUSPENDED:
        return at + timedelta(hours=rng.uniform(12, 72))
    in_field = case.status in IN_HANDS
    share = 0.5 if in_field else 1.0  # two steps share the handling stage
    hours = max(0.03, (case.stage_limit_h or 2.0) * share * math.exp(rng.gauss(math.log(0.35), 0.55)))
    if in_field:
        return sla.add_hours(case.category.timing, at, hours, calendar)
    return at + timedelta(hours=hours)


def seed_history(seed: int, days: int = 7, per_day: int = 50,
                 progress: Callable[[str], None] | None = None) -> Counter:
    """Report and work `days × per_day` cases over the past `days` days; returns statuses reached."""
    rng = random.Random(f"{seed}-history")
    end = timezone.now()
    start = end - timedelta(days=days)
    scene, staff, calendar = Scene.load(), Staff(), load_calendar()
    queue: list[tuple[datetime, int, int | None]] = [
        (_arrival(rng, start, days), n, None) for n in range(days * per_day)
    ]
    heapq.heapify(queue)
    sequence = len(queue)
    recent: list[Case] = []
    refused = 0
    with simulated_clock(start) as clock:
        next_check = start
        while queue and queue[0][0] <= end:
            at, _, case_id = heapq.heappop(queue)
            while next_check <= at:
                clock.at = next_check
                check_timers(next_check)
                next_check += TIMER_STEP
            clock.at = at
            try:
                case = _report(rng, scene, recent, at) if case_id is None else _advance(rng, case_id, staff)
            except DomainError as exc:
                refused += 1
                log.debug("history: refused at %s: %s", at, exc)
                case = Case.objects.select_related("category").get(pk=case_id) if case_id else None
            if case is not None and case.status not in FINAL:
                sequence += 1
                heapq.heappush(queue, (next_step_at(rng, case, at, calendar), sequence, case.id))
            if progress and case_id is None and len(recent) % 100 == 0:
                progress(f"history: {len(recent)} cases reported (up to {timezone.localtime(at):%m-%d %H:%M})")
        clock.at = end
        check_timers(end)
    statuses = Counter(Case.objects.values_list("status", flat=True))
    log.debug("history: %d refusals (expected now and then)", refused)
    return statuses


def _report(rng: random.Random, scene: Scene, recent: list[Case], at: datetime) -> Case:
    live = [c for c in recent[-30:] if at - c.created_at < timedelta(hours=12)]
    if live and rng.random() < REPEAT_SHARE:
        first = rng.choice(live)
        report, actor = repeat_report(rng, scene, first.category.code, first.lat, first.lon)
    else:
        report, actor = make_report(rng, scene)
    case = create_case(report, actor)
    recent.append(case)
    return case


def _advance(rng: random.Random, case_id: int, staff: Staff) -> Case:
    case = Case.objects.select_related("category", "worker").get(pk=case_id)
    move = next_move(rng, case, staff)
    if move is None:
        return case
    return perform(case.id, move.action, move.actor, move.params)
