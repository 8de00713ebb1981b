"""Statistics of the wall and console, computed with pandas from read-only queries of the case tables."""

from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd

from layouts.labels import OPEN_STATUSES

WINDOW_DAYS = 7
LATE_SLA = ("overdue", "escalated")
COLUMNS = [
    "id", "created_at", "closed_at", "source", "status", "severity", "sla_state", "street", "department",
    "category", "evaluation", "was_overdue",
]


def load_cases(now: datetime, street_id: int | None = None) -> pd.DataFrame:
    """Every case open now or reported or closed in the window, one row each (times in local time)."""
    from django.db.models import Exists, OuterRef, Q
    from django.utils import timezone

    from dispatchd.models import Case, CaseEvent

    since = now - timedelta(days=WINDOW_DAYS)
    query = Case.objects.filter(Q(created_at__gte=since) | Q(closed_at__gte=since) | Q(status__in=OPEN_STATUSES))
    if street_id is not None:
        query = query.filter(street_id=street_id)
    late = CaseEvent.objects.filter(case_id=OuterRef("pk"), action="sla_overdue")
    rows = query.annotate(was_overdue=Exists(late)).values_list(
        "id", "created_at", "closed_at", "source", "status", "severity", "sla_state", "street__name",
        "department__name", "category__parent__name", "evaluation", "was_overdue",
    )
    frame = pd.DataFrame.from_records(list(rows), columns=COLUMNS)
    zone = timezone.get_current_timezone()
    for column in ("created_at", "closed_at"):
        frame[column] = pd.to_datetime(frame[column], utc=True).dt.tz_convert(zone)
    return frame


def _day_start(now: datetime) -> pd.Timestamp:
    return pd.Timestamp(now).normalize()


def _closed_in_window(frame: pd.DataFrame, now: datetime) -> pd.DataFrame:
    since = pd.Timestamp(now) - pd.Timedelta(days=WINDOW_DAYS)
    return frame[frame["closed_at"].notna() & (frame["closed_at"] >= since)]


def _ontime_rate(closed: pd.DataFrame) -> float | None:
    return float((~closed["was_overdue"]).mean()) if len(closed) else None


def kpis(frame: pd.DataFrame, now: datetime) -> dict[str, float | int | None]:
    """Headline figures: today's reports and closures, open and overdue now, on-time rate, handling hours."""
    today = frame[frame["created_at"] >= _day_start(now)]
    open_now = frame[frame["status"].isin(OPEN_STATUSES)]
    closed = _closed_in_window(frame, now)
    hours = (closed["closed_at"] - closed["created_at"]).dt.total_seconds() / 3600
    return {
        "reported_today": len(today),
        "closed_today": int((frame["closed_at"] >= _day_start(now)).sum()),
        "open": len(open_now),
        "overdue": int(open_now["sla_state"].isin(LATE_SLA).sum()),
        "warning": int((open_now["sla_state"] == "warning").sum()),
        "ontime_rate": _ontime_rate(closed),
        "avg_handle_h": float(hours.mean()) if len(hours) else None,
        "satisfaction": float(closed["evaluation"].dropna().mean()) if closed["evaluation"].notna().any() else None,
    }


def today_by(frame: pd.DataFrame, now: datetime, column: str) -> pd.Series:
    """How many of today's cases fall in each value of `column`, largest first."""
    today = frame[frame["created_at"] >= _day_start(now)]
    return today[column].fillna("未知").value_counts().sort_values(ascending=False)


def trend(frame: pd.DataFrame, now: datetime) -> pd.DataFrame:
    """Cases reported and closed on each of the last seven days (index: the day)."""
    days = pd.date_range(end=_day_start(now), periods=WINDOW_DAYS, freq="D")
    reported = frame["created_at"].dt.normalize().value_counts()
    closed = frame["closed_at"].dropna().dt.normalize().value_counts()
    return pd.DataFrame(
        {"reported": reported.reindex(days, fill_value=0), "closed": closed.reindex(days, fill_value=0)},
        index=days,
    ).astype(int)


def ranking(frame: pd.DataFrame, now: datetime, column: str) -> pd.DataFrame:
    """综合评价 per `column` (street or department) over the window, best first.

    score = 50 × on-time closure rate + 30 × closure rate + 20 × satisfaction (mean evaluation / 5,
    3 when none); a unit with nothing closed scores 0 on the first two.
    """
    since = pd.Timestamp(now) - pd.Timedelta(days=WINDOW_DAYS)
    window = frame[(frame["created_at"] >= since) & frame[column].notna()].copy()
    if window.empty:
        return pd.DataFrame(columns=["total", "closed", "closure_rate", "ontime_rate", "satisfaction", "score"])
    window["closed"] = window["closed_at"].notna()
    window["ontime"] = window["closed"] & ~window["was_overdue"]
    table = window.groupby(column).agg(
        total=("id", "size"), closed=("closed", "sum"), ontime=("ontime", "sum"), satisfaction=("evaluation", "mean")
    )
    table["closure_rate"] = table["closed"] / table["total"]
    table["ontime_rate"] = (table["ontime"] / table["closed"]).where(table["closed"] > 0, 0.0)
    table["satisfaction"] = table["satisfaction"].fillna(3.0)
    table["score"] = 50 * table["ontime_rate"] + 30 * table["closure_rate"] + 20 * table["satisfaction"] / 5
    return table.drop(columns="ontime").sort_values("score", ascending=False)
