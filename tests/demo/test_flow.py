"""The live flow: new cases from every source, open cases moved along the loop, workers walking."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from shapely.geometry import Point, shape

from dispatchd.demo import flow
from dispatchd.demo.policy import SIM, Move
from dispatchd.models import Case, CaseEvent, District, PositionFix, Worker
from tests.demo.conftest import committed_demo_city

NO_WAIT = timedelta(0)


@pytest.fixture(scope="module")
def demo_city(django_db_setup, django_db_blocker):
    with committed_demo_city(django_db_blocker, history=False):
        yield


def test_step_reports_cases_from_every_kind_of_source(db, demo_city):
    done = flow.step(random.Random(1), rate_per_min=900, interval_s=6)
    assert done["created"] >= 50
    cases = Case.objects.all()
    assert cases.count() == done["created"]
    assert len(set(cases.values_list("source", flat=True))) >= 5
    assert cases.filter(outside_area=False).count() >= 0.9 * cases.count()


def test_steps_move_open_cases_along_the_loop(db, demo_city):
    rng = random.Random(2)
    flow.step(rng, rate_per_min=300, interval_s=6, min_dwell=NO_WAIT)
    taken: Counter = Counter()
    for _ in range(12):
        taken.update(flow.step(rng, rate_per_min=30, interval_s=6, min_dwell=NO_WAIT))
    assert {"accept", "register", "dispatch", "handle", "feedback"} <= set(taken)
    moved = Case.objects.exclude(status="reported").count()
    assert moved >= Case.objects.count() // 2
    actors = set(CaseEvent.objects.exclude(action="report").values_list("actor", flat=True))
    assert "commander:sim" in actors and any(a.startswith("worker:") for a in actors)


def test_a_step_only_moves_cases_that_have_waited(db, demo_city):
    flow.step(random.Random(3), rate_per_min=300, interval_s=6)
    assert set(Case.objects.values_list("status", flat=True)) == {"reported"}


def test_refusals_are_counted_not_raised(db, demo_city, monkeypatch):
    flow.step(random.Random(4), rate_per_min=300, interval_s=6)
    monkeypatch.setattr(flow, "next_move", lambda rng, case, staff: Move("close", SIM, {"note": "x"}))
    done = flow.step(random.Random(5), rate_per_min=0, interval_s=6, min_dwell=NO_WAIT)
    assert done["refused"] >= 1 and not done["close"]


def test_walk_moves_on_duty_workers_and_keeps_them_in_the_district(db, demo_city):
    district = shape(District.objects.get().polygon)
    off_duty = {w.id: (w.lat, w.lon) for w in Worker.objects.filter(state="off_duty")}
    walk = flow.WorkerWalk(random.Random(6))
    moved = sum(walk.tick(4.0) for _ in range(5))
    assert moved > 300 and PositionFix.objects.count() == moved
    for worker in Worker.objects.filter(state="on_duty"):
        assert district.buffer(1e-4).contains(Point(worker.lon, worker.lat))
    assert {w.id: (w.lat, w.lon) for w in Worker.objects.filter(state="off_duty")} == off_duty


@pytest.mark.django_db(transaction=True)
async def test_run_case_flow_works_in_the_background_until_cancelled(demo_city):
    task = asyncio.create_task(flow.run_case_flow(rate_per_min=600))
    for _ in range(300):
        if await sync_to_async(Case.objects.exists)():
            break
        await asyncio.sleep(0.1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await sync_to_async(Case.objects.exists)()
