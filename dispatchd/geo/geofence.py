"""Geofences with GPS-drift protection: exit/enter only on clear, lasting evidence; dwell alarms.

Each fix is judged by its signed distance to the fence boundary (metres, positive inside) against
its uncertainty u = max(accuracy, margin): clearly inside when d > u, clearly outside when d < -u,
otherwise it proves nothing. A transition counts only after an unbroken run of clear evidence for
it has lasted the dwell time (any fix that is not clear evidence restarts the run), so a track
jittering along the boundary never flaps. Staying outside longer than `alarm_after_s` raises one alarm per excursion.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import shapely
from shapely.geometry import Point, shape

from dispatchd.geo.distance import EARTH_RADIUS_M

INSIDE, OUTSIDE, UNKNOWN = "inside", "outside", "unknown"


class FenceShape:
    """A polygon (GeoJSON, lon/lat) measured in metres on a local plane around its centre."""

    def __init__(self, fence_id: str, geometry: dict[str, Any], name: str = "") -> None:
        self.id = fence_id
        self.name = name or fence_id
        polygon = shape(geometry)
        centre = polygon.centroid
        self._lat0, self._lon0 = centre.y, centre.x
        self._kx = math.radians(1) * EARTH_RADIUS_M * math.cos(math.radians(self._lat0))
        self._ky = math.radians(1) * EARTH_RADIUS_M
        self._area = shapely.transform(polygon, lambda c: (c - (self._lon0, self._lat0)) * (self._kx, self._ky))
        self._edge = self._area.boundary
        shapely.prepare(self._area)

    def _to_plane(self, lon: float, lat: float) -> tuple[float, float]:
        return (lon - self._lon0) * self._kx, (lat - self._lat0) * self._ky

    def signed_distance_m(self, lat: float, lon: float) -> float:
        """Distance to the boundary in metres: positive inside the fence, negative outside."""
        point = Point(*self._to_plane(lon, lat))
        distance = self._edge.distance(point)
        return distance if self._area.contains(point) else -distance


@dataclass(frozen=True)
class FenceState:
    """Where a worker stands with one fence, and what evidence for a change is pending."""

    side: str = UNKNOWN
    since: float | None = None  # when the current side began (first clear fix of it)
    pending_since: float | None = None  # first clear fix of the other side, not yet confirmed
    alarmed: bool = False  # the dwell alarm of this excursion has been raised


@dataclass(frozen=True)
class FenceEvent:
    """A confirmed exit or entry, or a dwell alarm, at epoch time `at`."""

    kind: str  # "exit", "enter" or "dwell_alarm"
    fence_id: str
    at: float
    since: float


@dataclass(frozen=True)
class FenceRules:
    """Drift protection parameters (seconds and metres)."""

    margin_m: float = 10.0
    exit_dwell_s: float = 60.0
    enter_dwell_s: float = 10.0
    alarm_after_s: float | None = 900.0

    def observe(
        self, fence: FenceShape, state: FenceState, lat: float, lon: float, accuracy_m: float | None, t: float
    ) -> tuple[FenceState, list[FenceEvent]]:
        """The new state after a fix at epoch `t` (fixes come in time order), and what it confirms."""
        d = fence.signed_distance_m(lat, lon)
        u = max(accuracy_m or 0.0, self.margin_m)
        seen = INSIDE if d > u else OUTSIDE if d < -u else None
        events: list[FenceEvent] = []
        if seen is None or seen == state.side:
            state = replace(state, pending_since=None)
        elif state.side == UNKNOWN:
            state = FenceState(side=seen, since=t)
        else:
            start = state.pending_since if state.pending_since is not None else t
            dwell = self.exit_dwell_s if seen == OUTSIDE else self.enter_dwell_s
            if t - start >= dwell:
                events.append(FenceEvent("exit" if seen == OUTSIDE else "enter", fence.id, t, start))
                state = FenceState(side=seen, since=start)
            else:
                state = replace(state, pending_since=start)
        state, alarm = self.check_dwell(fence.id, state, t)
        return state, events + alarm

    def check_dwell(self, fence_id: str, state: FenceState, now: float) -> tuple[FenceState, list[FenceEvent]]:
        """Raise the dwell alarm once when the worker has been outside longer than allowed."""
        if (
            self.alarm_after_s is None
            or state.side != OUTSIDE
            or state.alarmed
            or state.since is None
            or now - state.since < self.alarm_after_s
        ):
            return state, []
        return replace(state, alarmed=True), [FenceEvent("dwell_alarm", fence_id, now, state.since)]
