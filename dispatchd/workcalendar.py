"""Working-hours arithmetic for SLA timers: working day ranges, weekends, holidays and 调休 days."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings


def parse_ranges(spec: str) -> list[tuple[time, time]]:
    """Parse "08:30-12:00,14:00-18:00" into sorted (start, end) pairs."""
    ranges = []
    for part in spec.split(","):
        start_s, _, end_s = part.strip().partition("-")
        start, end = time.fromisoformat(start_s.strip()), time.fromisoformat(end_s.strip())
        if end <= start:
            raise ValueError(f"working range {part!r} ends before it starts")
        ranges.append((start, end))
    return sorted(ranges)


@dataclass
class WorkCalendar:
    """Which moments count as working time. Weekdays work unless a holiday; listed weekend days may work."""

    ranges: list[tuple[time, time]]
    tz: ZoneInfo
    holidays: set[date] = field(default_factory=set)
    extra_workdays: set[date] = field(default_factory=set)

    def is_workday(self, day: date) -> bool:
        """Whether `day` is worked."""
        if day in self.extra_workdays:
            return True
        if day in self.holidays:
            return False
        return day.weekday() < 5

    def _periods(self, day: date):
        if not self.is_workday(day):
            return
        for start, end in self.ranges:
            yield (
                datetime.combine(day, start, tzinfo=self.tz),
                datetime.combine(day, end, tzinfo=self.tz),
            )

    def add_working_hours(self, start: datetime, hours: float) -> datetime:
        """The moment `hours` of working time after `start`."""
        remaining = timedelta(hours=hours)
        cursor = start.astimezone(self.tz)
        day = cursor.date()
        for _ in range(3660):  # ten years of days at most: a calendar with no working day fails loudly
            for p_start, p_end in self._periods(day):
                if p_end <= cursor:
                    continue
                begin = max(p_start, cursor)
                available = p_end - begin
                if remaining <= available:
                    return begin + remaining
                remaining -= available
            day += timedelta(days=1)
            cursor = datetime.combine(day, time(0), tzinfo=self.tz)
        raise ValueError("the working calendar has no working time in the next ten years")

    def working_hours_between(self, start: datetime, end: datetime) -> float:
        """Working hours that lie between `start` and `end` (0 if end <= start)."""
        if end <= start:
            return 0.0
        start, end = start.astimezone(self.tz), end.astimezone(self.tz)
        total = timedelta()
        day = start.date()
        while day <= end.date():
            for p_start, p_end in self._periods(day):
                lo, hi = max(p_start, start), min(p_end, end)
                if hi > lo:
                    total += hi - lo
            day += timedelta(days=1)
        return total.total_seconds() / 3600


def load_calendar() -> WorkCalendar:
    """The calendar from settings and the Holiday table."""
    from dispatchd.models import Holiday

    holidays, extra = set(), set()
    for day, is_workday in Holiday.objects.values_list("date", "is_workday"):
        (extra if is_workday else holidays).add(day)
    return WorkCalendar(
        ranges=parse_ranges(settings.WALL_WORKING_HOURS),
        tz=ZoneInfo(settings.TIME_ZONE),
        holidays=holidays,
        extra_workdays=extra,
    )
