"""The position pipeline: a batch of fixes passes a chain of small handlers, each testable alone.

validate → dedupe → trail → live state → geofence → persist → publish

`validate` refuses the whole batch (InvalidInput, HTTP 400) before anything is stored. `dedupe`
drops fixes already seen. `trail` stores every remaining fix, also late ones. `live_state` moves a
worker only to a fix newer than its live position and accurate enough (others stay in the trail
only). `geofence` judges the moves against the worker's fences, `persist` writes the newest
position and alarms to the database, and `publish` announces moves and fence events.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from dispatchd.errors import InvalidInput
from dispatchd.events import publish_many_on_commit, publish_on_commit
from dispatchd.field import trail as trails
from dispatchd.field.config import setting
from dispatchd.field.fences import fence_book
from dispatchd.field.live import ensure_known, live_store
from dispatchd.field.state import OFFLINE, ON_DUTY, Fix, LiveState
from dispatchd.field.store import LiveStore
from dispatchd.geo.distance import valid_point
from dispatchd.geo.geofence import FenceEvent, FenceState
from dispatchd.geo.gridindex import grid_index
from dispatchd.incidents import arrivals


@dataclass
class Batch:
    """What flows through the chain: the fixes still in play and what the handlers found."""

    store: LiveStore
    fixes: list[Fix]
    received: int = 0
    duplicates: int = 0
    late: int = 0  # older than the live position (kept in the trail only)
    coarse: int = 0  # too inaccurate to move the live position (kept in the trail only)
    moves: list[tuple[Fix, LiveState]] = field(default_factory=list)
    fence_events: list[tuple[int, FenceEvent, str]] = field(default_factory=list)  # worker, event, fence name

    def result(self) -> dict[str, int]:
        """The counts reported to the sender."""
        return {
            "accepted": len(self.fixes), "duplicates": self.duplicates, "late": self.late,
            "coarse": self.coarse, "moved": len(self.moves),
        }


def _time(value: Any) -> datetime:
    if isinstance(value, datetime):
        at = value
    elif isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        at = datetime.fromtimestamp(value, tz=UTC)
    elif isinstance(value, str):
        at = datetime.fromisoformat(value)
    else:
        raise ValueError("a timestamp (ISO 8601 or epoch seconds)")
    return timezone.make_aware(at) if timezone.is_naive(at) else at


def _optional(item: dict[str, Any], name: str, low: float, high: float) -> float | None:
    value = item.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number")
    if not low <= value <= high:
        raise ValueError(f"{name} must be between {low:g} and {high:g}")
    return float(value)


def _fix(item: dict[str, Any], now: datetime) -> Fix:
    worker_id, lat, lon = item.get("worker_id"), item.get("lat"), item.get("lon")
    if isinstance(worker_id, bool) or not isinstance(worker_id, int) or worker_id < 1:
        raise ValueError("worker_id must be a positive integer")
    numbers = (lat, lon)
    if any(isinstance(v, bool) or not isinstance(v, (int, float)) for v in numbers) or not valid_point(lat, lon):
        raise ValueError("lat/lon must be finite, lat in [-90, 90], lon in [-180, 180]")
    if lat == 0 and lon == 0:
        raise ValueError("0,0 is the null position of a receiver without a fix")
    at = _time(item.get("at"))
    if at > now + timedelta(seconds=setting("WALL_FIELD_MAX_CLOCK_SKEW_S")):
        raise ValueError(f"timestamp {at.isoformat()} is in the future")
    if at < now - timedelta(hours=setting("WALL_FIELD_MAX_FIX_AGE_H")):
        raise ValueError(f"timestamp {at.isoformat()} is too old")
    return Fix(
        worker_id, float(lat), float(lon), at,
        accuracy_m=_optional(item, "accuracy_m", 0, 100_000),
        speed_mps=_optional(item, "speed_mps", 0, 100),
        heading=_optional(item, "heading", 0, 360),
    )


def validate(items: list[dict[str, Any]], store: LiveStore, now: datetime | None = None) -> Batch:
    """Check every item; refuse the whole batch with every problem found, or return it as fixes."""
    from dispatchd.models import Worker

    now = now or timezone.now()
    fixes, errors = [], {}
    for index, item in enumerate(items):
        try:
            fixes.append(_fix(item, now))
        except (ValueError, TypeError) as exc:
            errors[f"items[{index}]"] = str(exc)
    if not errors:
        ids = {f.worker_id for f in fixes}
        known = set(Worker.objects.filter(pk__in=ids).values_list("pk", flat=True))
        if unknown := sorted(ids - known):
            errors["worker_id"] = f"unknown workers: {unknown[:20]}"
    if errors:
        raise InvalidInput(errors)
    ensure_known(store, {f.worker_id for f in fixes})
    return Batch(store, sorted(fixes, key=lambda f: (f.worker_id, f.at)), received=len(fixes))


def dedupe(batch: Batch) -> None:
    """Drop fixes repeated in the batch or already in the trail."""
    unique = list({(f.worker_id, f.at): f for f in reversed(batch.fixes)}.values())
    stored = trails.stored_keys(unique)
    batch.fixes = sorted((f for f in unique if (f.worker_id, f.at) not in stored), key=lambda f: (f.worker_id, f.at))
    batch.duplicates = batch.received - len(batch.fixes)


def trail(batch: Batch) -> None:
    """Store every new fix for playback, in time order or not."""
    with transaction.atomic(savepoint=False):
        trails.write(batch.fixes)


def live_state(batch: Batch) -> None:
    """Move each worker through its newer, accurate-enough fixes (a silent worker comes back online)."""
    max_accuracy = setting("WALL_FIELD_MAX_ACCURACY_M")
    for fix in batch.fixes:
        if fix.accuracy_m is not None and fix.accuracy_m > max_accuracy:
            batch.coarse += 1
            continue
        state = batch.store.apply_fix(fix)
        if state is None:
            batch.late += 1
            continue
        if state.duty == OFFLINE:
            state = batch.store.update(fix.worker_id, duty=ON_DUTY) or state
        batch.moves.append((fix, state))


def geofence(batch: Batch) -> None:
    """Judge each move against the worker's fences; collect confirmed crossings and dwell alarms."""
    book = fence_book()
    by_worker: dict[int, list[tuple[Fix, LiveState]]] = {}
    for fix, state in batch.moves:
        by_worker.setdefault(fix.worker_id, []).append((fix, state))
    for worker_id, moves in by_worker.items():
        fences = book.fences_for(worker_id, moves[-1][1].grid_id)
        if not fences:
            continue
        standing = batch.store.fence_states(worker_id)
        for fix, _state in moves:
            for shape, rules in fences:
                before = standing.get(shape.id, FenceState())
                after, events = rules.observe(shape, before, fix.lat, fix.lon, fix.accuracy_m, fix.t)
                standing[shape.id] = after
                batch.fence_events += [(worker_id, event, shape.name) for event in events]
        batch.store.put_fence_states(worker_id, standing)


def persist(batch: Batch) -> None:
    """Write each moved worker's newest position, and any dwell alarm, to the database."""
    from dispatchd.models import Alarm, Worker

    newest = {fix.worker_id: (fix, state) for fix, state in batch.moves}
    with transaction.atomic(savepoint=False):
        if newest:
            # A few statements per batch, not two per worker: a thousand-worker batch stays a few round trips.
            # The rows are locked (PostgreSQL) so a concurrent batch cannot slip a newer fix in between the read
            # and the write; a row already holding a newer fix keeps it.
            rows = Worker.objects.select_for_update().filter(pk__in=newest).order_by("pk")  # one lock order
            seen = dict(rows.values_list("pk", "last_seen"))
            moved = [Worker(pk=worker_id, lat=fix.lat, lon=fix.lon, last_seen=fix.at)
                     for worker_id, (fix, _) in newest.items()
                     if worker_id in seen and (seen[worker_id] is None or seen[worker_id] < fix.at)]
            Worker.objects.bulk_update(moved, ["lat", "lon", "last_seen"])
            back = [worker_id for worker_id, (_, state) in newest.items() if state.duty == ON_DUTY]
            if back:
                Worker.objects.filter(pk__in=back, state=OFFLINE).update(state=ON_DUTY)
        for worker_id, event, name in batch.fence_events:
            if event.kind != "dwell_alarm":
                continue
            minutes = (event.at - event.since) / 60
            alarm = Alarm.objects.create(
                kind="geofence_dwell", severity="normal", worker_id=worker_id,
                message=f"outside {name} for {minutes:.0f} min",
                lat=newest[worker_id][0].lat if worker_id in newest else None,
                lon=newest[worker_id][0].lon if worker_id in newest else None,
            )
            publish_on_commit("alarms", "alarm.raised", {"id": alarm.id, "kind": alarm.kind, "worker_id": worker_id,
                                                         "message": alarm.message, "fence": event.fence_id})


def publish(batch: Batch) -> None:
    """Announce the newest position of each moved worker, and each fence crossing."""
    newest = {fix.worker_id: state for fix, state in batch.moves}
    publish_many_on_commit("positions", "position", [position_event(s) for s in newest.values()])
    for worker_id, event, name in batch.fence_events:
        if event.kind in ("exit", "enter"):
            data = {"worker_id": worker_id, "fence": event.fence_id, "name": name,
                    "at": _iso(event.at), "since": _iso(event.since)}
            publish_on_commit("alarms", f"geofence.{event.kind}", data)


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, tz=UTC).isoformat()


def position_event(state: LiveState) -> dict[str, Any]:
    """The `position` event of a worker for the hub."""
    return {
        "worker_id": state.worker_id, "lat": state.lat, "lon": state.lon,
        "at": _iso(state.t) if state.t is not None else None, "accuracy_m": state.accuracy_m,
        "speed_mps": state.speed_mps, "heading": state.heading, "status": state.status, "case_id": state.case_id,
        # what hub subscribers filter on
        "state": state.status, "grid_id": state.grid_id, "department_id": state.department,
        "street_id": grid_index().placement_of(state.grid_id).street_id,
    }


CHAIN: tuple[Callable[[Batch], None], ...] = (dedupe, trail, live_state, geofence, persist, publish, arrivals.observe)


def ingest(items: list[dict[str, Any]], store: LiveStore | None = None) -> dict[str, int]:
    """Run a batch of position items through the whole chain; InvalidInput refuses it untouched.

    One transaction: if the live store (Redis) fails midway, the trail rows go too, so a retry of the
    batch is not taken for a duplicate and still moves the workers.
    """
    batch = validate(items, store or live_store())
    with transaction.atomic():
        for handler in CHAIN:
            handler(batch)
    return batch.result()


def sweep_offline(now: datetime | None = None, store: LiveStore | None = None) -> list[int]:
    """Mark on-duty workers silent for longer than the offline limit as offline; their ids."""
    from dispatchd.models import Worker

    store = store or live_store()
    now = now or timezone.now()
    cutoff = now.timestamp() - setting("WALL_FIELD_OFFLINE_AFTER_S")
    silent = [s.worker_id for s in store.states() if s.duty == ON_DUTY and s.t is not None and s.t < cutoff]
    for worker_id in silent:
        state = store.update(worker_id, duty=OFFLINE)
        if state is not None:
            publish_on_commit("positions", "worker.status", position_event(state))
    if silent:
        Worker.objects.filter(pk__in=silent, state=ON_DUTY).update(state=OFFLINE)
    return silent


def check_fence_dwell(now: datetime | None = None, store: LiveStore | None = None) -> int:
    """Raise dwell alarms for workers that went silent outside their fence; how many were raised."""
    store = store or live_store()
    t = (now or timezone.now()).timestamp()
    batch = Batch(store, [])
    book = fence_book()
    for state in store.states():
        standing = store.fence_states(state.worker_id)
        if not standing:
            continue
        changed = False
        for shape, rules in book.fences_for(state.worker_id, state.grid_id):
            if shape.id in standing:
                standing[shape.id], events = rules.check_dwell(shape.id, standing[shape.id], t)
                batch.fence_events += [(state.worker_id, e, shape.name) for e in events]
                changed = changed or bool(events)
        if changed:
            store.put_fence_states(state.worker_id, standing)
    persist(batch)
    return len(batch.fence_events)
