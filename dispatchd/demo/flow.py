"""The live demo: new cases from every source, open cases worked through the loop, workers walking.

`step()` and `WorkerWalk.tick()` are plain synchronous functions (testable alone); `run_case_flow()`
calls them forever from the event loop, in worker threads, with fresh database connections.
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from asgiref.sync import sync_to_async
from django.db import close_old_connections
from django.utils import timezone
from shapely.geometry import Point, shape
from shapely.prepared import prep

from dispatchd.demo.policy import Staff, next_move
from dispatchd.demo.reports import Scene, make_report, repeat_report
from dispatchd.errors import DomainError
from dispatchd.ingest import store_positions
from dispatchd.intake import create_case
from dispatchd.models import Case, CaseStatus, GridCell, Worker
from dispatchd.workflow import OPEN, perform

log = logging.getLogger("dispatchd.demo.flow")

CASE_INTERVAL_S = 5.0
WALK_INTERVAL_S = 4.0
MIN_DWELL = timedelta(seconds=20)  # let the wall show each status for a while
STEPS_PER_CASE = 9  # actions a case takes on average from report to evaluation
REPEAT_SHARE = 0.06
WORKABLE = OPEN | {CaseStatus.SUSPENDED, CaseStatus.CLOSED}
WALK_MPS = 1.3
M_PER_DEG = 111_320.0


def _poisson(rng: random.Random, mean: float) -> int:
    """A Poisson-distributed count (Knuth's method; means here are small)."""
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def _report_one(rng: random.Random, scene: Scene) -> Case:
    if rng.random() < REPEAT_SHARE:
        since = timezone.now() - timedelta(hours=2)
        recent = list(Case.objects.filter(created_at__gte=since, status__in=OPEN).select_related("category")[:50])
        if recent:
            first = rng.choice(recent)
            return create_case(*repeat_report(rng, scene, first.category.code, first.lat, first.lon))
    return create_case(*make_report(rng, scene))


def step(rng: random.Random | None = None, rate_per_min: float = 6.0, interval_s: float = CASE_INTERVAL_S,
         min_dwell: timedelta = MIN_DWELL) -> Counter:
    """One tick of the flow: report about `rate_per_min × interval_s / 60` new cases and move on open
    cases that have stayed at least `min_dwell` in their status.

    Returns counts: "created", one per action taken, and "refused" for domain refusals (expected
    now and then, e.g. when two steps race for a case; logged at debug level).
    """
    rng = rng or random.Random()
    done: Counter = Counter()
    scene, staff = Scene.load(), Staff()
    for _ in range(_poisson(rng, rate_per_min * interval_s / 60)):
        try:
            _report_one(rng, scene)
            done["created"] += 1
        except DomainError as exc:
            done["refused"] += 1
            log.debug("demo flow: report refused: %s", exc)
    ready = list(
        Case.objects.filter(status__in=WORKABLE, updated_at__lte=timezone.now() - min_dwell)
        .values_list("id", flat=True)
    )
    budget = max(1, round(rate_per_min * interval_s / 60 * STEPS_PER_CASE)) + len(ready) // 80
    for case_id in rng.sample(ready, min(budget, len(ready))):
        case = Case.objects.select_related("category", "worker").get(pk=case_id)
        move = next_move(rng, case, staff)
        if move is None:
            continue
        try:
            perform(case.id, move.action, move.actor, move.params)
            done[move.action] += 1
        except DomainError as exc:
            done["refused"] += 1
            log.debug("demo flow: %s on %s refused: %s", move.action, case.number, exc)
    return done


class WorkerWalk:
    """On-duty workers stroll around their grid cells; each tick posts the new fixes through ingest."""

    def __init__(self, rng: random.Random | None = None) -> None:
        self.rng = rng or random.Random()
        self.headings: dict[int, float] = {}
        self.cells: dict[int, Any] = {}
        self.centres: dict[int, tuple[float, float]] = {}

    def _cell(self, grid_id: int):
        if grid_id not in self.cells:
            polygon = shape(GridCell.objects.get(pk=grid_id).polygon)
            self.cells[grid_id] = prep(polygon)
            centre = polygon.representative_point()
            self.centres[grid_id] = (centre.y, centre.x)
        return self.cells[grid_id]

    def tick(self, interval_s: float = WALK_INTERVAL_S) -> int:
        """Move the walking on-duty workers one stride and store their fixes; returns how many moved."""
        now = timezone.now()
        items = []
        walkers = Worker.objects.filter(state="on_duty", grid__isnull=False, lat__isnull=False)
        for worker_id, grid_id, lat, lon in walkers.values_list("id", "grid_id", "lat", "lon"):
            if self.rng.random() < 0.3:  # standing still: talking to a shopkeeper, photographing a problem
                continue
            cell = self._cell(grid_id)
            heading = self.headings.get(worker_id, self.rng.uniform(0, 360)) + self.rng.gauss(0, 30)
            speed = WALK_MPS * self.rng.uniform(0.6, 1.2)
            new_lat, new_lon = _stride(lat, lon, heading, speed * interval_s)
            if not cell.contains(Point(new_lon, new_lat)):  # at the edge of the cell: turn back inwards
                c_lat, c_lon = self.centres[grid_id]
                heading = math.degrees(math.atan2((c_lon - lon) * math.cos(math.radians(lat)), c_lat - lat))
                new_lat, new_lon = _stride(lat, lon, heading, speed * interval_s)
            self.headings[worker_id] = heading % 360
            items.append({
                "worker_id": worker_id, "at": now, "lat": round(new_lat, 6), "lon": round(new_lon, 6),
                "speed_mps": round(speed, 2), "heading": round(heading % 360, 1),
                "accuracy_m": round(self.rng.uniform(3, 12), 1),
            })
        if items:
            store_positions(items)
        return len(items)


def _stride(lat: float, lon: float, heading_deg: float, metres: float) -> tuple[float, float]:
    rad = math.radians(heading_deg)
    d_lat = metres * math.cos(rad) / M_PER_DEG
    d_lon = metres * math.sin(rad) / (M_PER_DEG * math.cos(math.radians(lat)))
    return lat + d_lat, lon + d_lon


def _with_fresh_connections(fn: Callable[..., Any]) -> Callable[..., Any]:
    def run(*args: Any) -> Any:
        close_old_connections()
        try:
            return fn(*args)
        finally:
            close_old_connections()

    return run


async def _in_thread(fn: Callable[..., Any], *args: Any) -> Any:
    """Run `fn` in a worker thread; on cancellation let it finish its transaction first, then stop."""
    work = asyncio.ensure_future(sync_to_async(_with_fresh_connections(fn), thread_sensitive=False)(*args))
    try:
        return await asyncio.shield(work)
    except asyncio.CancelledError:
        await asyncio.wait([work])
        if not work.cancelled() and work.exception() is not None:
            log.debug("demo flow: %s failed while stopping: %s", fn, work.exception())
        raise
    except Exception:
        log.exception("demo flow: %s failed; carrying on", getattr(fn, "__name__", fn))
        return None


async def run_case_flow(rate_per_min: float = 6.0) -> None:
    """Until cancelled: report about `rate_per_min` cases a minute, work open cases, walk the workers."""
    rng = random.Random()
    walk = WorkerWalk(random.Random(rng.random()))
    loop = asyncio.get_running_loop()
    log.info("demo flow: about %.1f new cases a minute", rate_per_min)
    next_cases = next_walk = loop.time()
    while True:
        if loop.time() >= next_cases:
            next_cases = loop.time() + CASE_INTERVAL_S
            done = await _in_thread(step, rng, rate_per_min, CASE_INTERVAL_S)
            if done:
                log.debug("demo flow: %s", dict(done))
        if loop.time() >= next_walk:
            next_walk = loop.time() + WALK_INTERVAL_S
            await _in_thread(walk.tick, WALK_INTERVAL_S)
        await asyncio.sleep(max(0.05, min(next_cases, next_walk) - loop.time()))
