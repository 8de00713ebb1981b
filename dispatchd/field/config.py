"""Tunables of the field services, read from Django settings with these defaults."""

from __future__ import annotations

from django.conf import settings

DEFAULTS: dict[str, float] = {
    "WALL_FIELD_OFFLINE_AFTER_S": 300.0,  # a worker silent this long is offline
    "WALL_FIELD_MAX_ACCURACY_M": 200.0,  # fixes less accurate than this go to the trail only
    "WALL_FIELD_MAX_CLOCK_SKEW_S": 60.0,  # how far in the future a timestamp may be
    "WALL_FIELD_MAX_FIX_AGE_H": 720.0,  # fixes older than this are refused
    "WALL_FIELD_MAX_SPEED_MPS": 70.0,  # jumps faster than this do not count as distance patrolled
    "WALL_GEOFENCE_MARGIN_M": 10.0,  # least uncertainty assumed around a fix
    "WALL_GEOFENCE_EXIT_DWELL_S": 60.0,  # clear evidence of being outside this long before an exit counts
    "WALL_GEOFENCE_ENTER_DWELL_S": 10.0,  # the same for an entry
    "WALL_GEOFENCE_ALARM_AFTER_S": 900.0,  # outside the own grid this long raises an alarm
    "WALL_DISPATCH_ACCEPT_TIMEOUT_S": 120.0,  # an order not accepted by then goes to the next nearest
    "WALL_DISPATCH_FALLBACK_MAX_KM": 10.0,  # how far the fallback looks for the next nearest
    "WALL_NEAREST_SPEED_MPS": 3.0,  # straight-line ETA speed (e-bike through streets)
}


def setting(name: str) -> float:
    """The value of a field tunable: the Django setting when defined, else its default."""
    return float(getattr(settings, name, DEFAULTS[name]))
