"""The compact position item of `batch` frames (format 2, docs/protocol.md): one JSON array per worker.

An item is `[worker_id, lat, lon, t, state, grid_id, street_id, department_id, accuracy_m, speed_mps,
heading, case_id]` (the frame's `fields`), coordinates rounded to 6 decimals, `t` the fix's time in epoch
seconds to 0.1 s, `state` an index into the frame's `states` (or the string itself past STATE_CODES_MAX
distinct states); trailing nulls are left out. Other keys of a position event are not carried.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from realtime.envelope import dumps

FORMAT = 2
FIELDS = (
    "worker_id", "lat", "lon", "t", "state", "grid_id", "street_id", "department_id",
    "accuracy_m", "speed_mps", "heading", "case_id",
)
STATE_CODES_MAX = 64
_PASSED = FIELDS[5:]  # carried as they are


class StateCodes:
    """Small integers for state names, assigned in order of appearance and never reassigned."""

    def __init__(self) -> None:
        self.names: list[str] = []
        self._codes: dict[str, int] = {}

    def code(self, state: Any) -> Any:
        """The code of `state`; the value itself when it is no string or the table is full."""
        if not isinstance(state, str):
            return None
        code = self._codes.get(state)
        if code is None:
            if len(self.names) >= STATE_CODES_MAX:
                return state
            code = self._codes[state] = len(self.names)
            self.names.append(state)
        return code


@lru_cache(maxsize=4096)
def _iso_epoch(at: str) -> float | None:
    try:
        moment = datetime.fromisoformat(at)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def epoch_tenths(at: Any) -> float | None:
    """A fix time (ISO 8601, naive = UTC, or epoch seconds) as epoch seconds rounded to 0.1 s."""
    if isinstance(at, str):
        seconds = _iso_epoch(at)
    elif isinstance(at, int | float) and not isinstance(at, bool):
        seconds = float(at)
    else:
        return None
    return round(seconds, 1) if seconds is not None and math.isfinite(seconds) else None


def _coordinate(value: Any) -> float | None:
    if type(value) is float and -1e9 < value < 1e9:  # the common case, without the isinstance chain
        return round(value * 1e6) / 1e6  # round(value, 6) formats the number as text: several times slower
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return round(value, 6)
    return None


def encode_item(item: dict[str, Any], states: StateCodes) -> str:
    """The compact JSON array of one position item."""
    row = [
        item.get("worker_id"), _coordinate(item.get("lat")), _coordinate(item.get("lon")),
        epoch_tenths(item.get("at")), states.code(item.get("state", item.get("status"))), *map(item.get, _PASSED),
    ]
    while len(row) > 1 and row[-1] is None:
        row.pop()
    return dumps(row)  # non-finite numbers become null; integers past 64 bits are kept
