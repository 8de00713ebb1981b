"""Live worker state behind one interface: this process's memory, or Redis shared by several processes.

Both variants keep a local view (a dict of LiveState plus the nearest index) that answers reads;
they differ in who decides a write. MemoryStore decides under its own lock; RedisStore decides in
Redis (see dispatchd/field/redis_store.py) and replays every other process's writes into its view.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from dispatchd.field.state import ON_DUTY, Fix, LiveState
from dispatchd.geo.geofence import FenceState
from dispatchd.geo.nearest import NearestIndex


class LiveStore:
    """The interface and the local view; subclasses decide writes in `_commit`."""

    def __init__(self, origin: tuple[float, float] | None = None) -> None:
        self._states: dict[int, LiveState] = {}
        self._index = NearestIndex(origin)
        self._fences: dict[int, dict[str, FenceState]] = {}
        self._lock = threading.RLock()

    # -- reads -------------------------------------------------------------------------------
    def get(self, worker_id: int) -> LiveState | None:
        """The live state of a worker, if known."""
        return self._states.get(worker_id)

    def states(self) -> list[LiveState]:
        """Every known worker's live state."""
        return list(self._states.values())

    def nearest(
        self,
        lat: float,
        lon: float,
        k: int = 5,
        *,
        skill: str | None = None,
        department: int | None = None,
        available: bool | None = True,
        max_m: float | None = None,
        exclude: Iterable[int] = (),
    ) -> list[tuple[LiveState, float]]:
        """The k nearest positioned workers matching the filters, with their distance in metres."""
        self.sync()
        skip = set(exclude)
        hits = self._index.nearest(
            lat, lon, k + len(skip), skill=skill, department=department, available=available, max_m=max_m
        )
        found = []
        for hit in hits:
            state = self._states.get(hit.member.id)
            if state is not None and hit.member.id not in skip:
                found.append((state, hit.distance_m))
        return found[:k]

    def within(self, lat: float, lon: float, radius_m: float) -> list[tuple[LiveState, float]]:
        """Every positioned worker within `radius_m`, nearest first, with the distance in metres."""
        self.sync()
        states = self._states
        return [(state, hit.distance_m) for hit in self._index.within(lat, lon, radius_m)
                if (state := states.get(hit.member.id)) is not None]

    def fence_states(self, worker_id: int) -> dict[str, FenceState]:
        """The worker's standing with each of its fences."""
        return dict(self._fences.get(worker_id, {}))

    # -- writes ------------------------------------------------------------------------------
    def load(self, states: Iterable[LiveState]) -> None:
        """Make these the known workers (at start-up); keeps fresher positions already known."""
        for state in states:
            current = self._states.get(state.worker_id)
            if current is not None and current.t is not None and (state.t is None or state.t < current.t):
                state = replace(state, lat=current.lat, lon=current.lon, t=current.t,
                                accuracy_m=current.accuracy_m, speed_mps=current.speed_mps, heading=current.heading)
            self._commit(state, fix=False)

    def apply_fix(self, fix: Fix) -> LiveState | None:
        """Move the worker to `fix` if it is newer than the live position; the new state, or None."""
        with self._lock:
            current = self._states.get(fix.worker_id) or LiveState(fix.worker_id, duty=ON_DUTY)
            if current.t is not None and fix.t <= current.t:
                return None
            return self._commit(current.with_fix(fix), fix=True)

    def update(self, worker_id: int, **changes: Any) -> LiveState | None:
        """Change fields other than the position (duty, busy, case, skills …); None when unknown."""
        with self._lock:
            current = self._states.get(worker_id)
            if current is None:
                return None
            return self._commit(replace(current, **changes), fix=False)

    def put_fence_states(self, worker_id: int, states: dict[str, FenceState]) -> None:
        """Record the worker's standing with its fences."""
        self._fences[worker_id] = dict(states)

    def sync(self) -> None:
        """Bring the local view up to date with other processes (nothing to do in memory)."""

    def _commit(self, state: LiveState, fix: bool) -> LiveState | None:
        """Decide a write (for a `fix`, only if no newer position was recorded); the state, or None."""
        raise NotImplementedError

    def _show(self, state: LiveState) -> None:
        """Put a decided state into the local view and the index."""
        with self._lock:
            self._states[state.worker_id] = state
            if state.lat is None:
                self._index.remove(state.worker_id)
            else:
                self._index.upsert(state.member())


class MemoryStore(LiveStore):
    """Live state of this process only (the embedded demo, tests)."""

    def _commit(self, state: LiveState, fix: bool) -> LiveState | None:
        self._show(state)
        return state
