"""Shared helpers for case-loop tests: report a case, drive it to a status, record published events."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.forms.models import model_to_dict
from django.test import TestCase
from django.utils import timezone

import dispatchd.events
from dispatchd import workflow
from dispatchd.actors import Actor
from dispatchd.intake import Report, create_case
from dispatchd.models import Case, CaseStatus
from tests.city import SmallCity

S = CaseStatus


def report(city: SmallCity, cell: int = 0, category: str = "litter", actor: Actor | None = None, **extra) -> Case:
    """Report a case in grid cell `cell` (through the domain, as the commander by default)."""
    lat, lon = city.point_in(cell)
    fields: dict[str, Any] = {"title": "路边暴露垃圾", "category": city.categories[category].id, "lat": lat, "lon": lon}
    return create_case(Report(**{**fields, **extra}), actor or city.commander)


def act(city: SmallCity, case: Case, action: str, actor: Actor | None = None, **params) -> Case:
    """Take `action` on `case` through the workflow (as the commander by default)."""
    return workflow.perform(case.pk, action, actor or city.commander, params)


def step_params(city: SmallCity, action: str, case: Case) -> dict[str, Any]:
    """Parameters that make `action` valid on `case` whenever its status allows it."""
    params: dict[str, Any] = {"note": f"{action} by test"}
    if action == "dispatch":
        params.update(department=city.departments["ENV"].id, worker=city.workers[1].id)
    elif action == "redispatch":
        params.update(department=city.departments["ENV1"].id)
    elif action == "merge":
        params["into"] = report(city, cell=3, category="manhole").id
    elif action == "evaluate":
        params["score"] = 4
    elif action == "extend_request":
        params["hours"] = 2
    return params


# How to reach each status from 上报, one action after another.
ROUTE: dict[str, list[str]] = {
    S.REPORTED: [],
    S.ACCEPTED: ["accept"],
    S.REGISTERED: ["accept", "register"],
    S.DISPATCHED: ["accept", "register", "dispatch"],
    S.HANDLING: ["accept", "register", "dispatch", "handle"],
    S.FEEDBACK: ["accept", "register", "dispatch", "handle", "feedback"],
    S.VERIFIED: ["accept", "register", "dispatch", "handle", "feedback", "verify"],
    S.CLOSED: ["accept", "register", "dispatch", "handle", "feedback", "verify", "close"],
    S.EVALUATED: ["accept", "register", "dispatch", "handle", "feedback", "verify", "close", "evaluate"],
    S.SUSPENDED: ["accept", "register", "dispatch", "suspend"],
    S.VOIDED: ["void"],
    S.MERGED: ["merge"],
}


def case_in(city: SmallCity, status: str, **report_fields) -> Case:
    """A fresh case brought to `status` through the loop."""
    case = report(city, **report_fields)
    for action in ROUTE[status]:
        case = act(city, case, action, **step_params(city, action, case))
    assert case.status == status
    return case


def snapshot(case: Case) -> dict[str, Any]:
    """Everything about a case that a refused action must leave alone: its row and its timeline."""
    case = Case.objects.get(pk=case.pk)
    row = model_to_dict(case)
    row["assist_departments"] = sorted(d.pk for d in row["assist_departments"])
    timeline = list(case.timeline.values_list("id", "action", "from_status", "to_status"))
    return {"row": row, "updated_at": case.updated_at, "timeline": timeline}


@dataclass
class EventRecorder:
    """Stands in for realtime.publish: keeps every (topic, event) handed to it."""

    published: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def __call__(self, topic: str, event: dict[str, Any]) -> int:
        self.published.append((topic, event))
        return len(self.published)

    def many(self, topic: str, events: list[dict[str, Any]]) -> int:
        """Stand-in for publish_many: records each event."""
        for event in events:
            self(topic, event)
        return len(self.published)

    @contextmanager
    def committing(self) -> Iterator[None]:
        """Run the on-commit callbacks of the block as if its transaction committed (for `db` tests)."""
        with TestCase.captureOnCommitCallbacks(execute=True):
            yield

    def types(self, topic: str = "cases") -> list[str]:
        """Event types published on `topic`, in order."""
        return [event["type"] for t, event in self.published if t == topic]

    def data(self, event_type: str, topic: str = "cases") -> list[dict[str, Any]]:
        """Payloads of the events of `event_type` on `topic`."""
        return [event["data"] for t, event in self.published if t == topic and event["type"] == event_type]

    def clear(self) -> None:
        """Forget what was recorded so far."""
        self.published.clear()


@dataclass
class Clock:
    """A stopped clock that tests move by hand; installed as django.utils.timezone.now."""

    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        """Move the clock forward by a timedelta's keyword arguments and return the new time."""
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
def events(monkeypatch: pytest.MonkeyPatch) -> EventRecorder:
    """Record what the domain publishes, in place of the hub's publish()."""
    recorder = EventRecorder()
    monkeypatch.setattr(dispatchd.events, "publish", recorder)
    monkeypatch.setattr(dispatchd.events, "publish_many", recorder.many)
    return recorder


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """Stop time at Tuesday 2025-09-30 09:00 Shanghai (before the National Day holidays)."""
    stopped = Clock(datetime(2025, 9, 30, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai")))
    monkeypatch.setattr(timezone, "now", stopped)
    return stopped


def race(*calls: Callable[[], Any]) -> list[Any]:
    """Run `calls` at once in real threads (each on its own DB connection); their results or exceptions."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(index: int) -> None:
        try:
            barrier.wait()
            results[index] = calls[index]()
        except Exception as exc:  # the outcome under test
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results
