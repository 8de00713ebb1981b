"""The shapes of live field data: a validated fix and a worker's live state."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from typing import Any

from dispatchd.geo.nearest import Member

ON_DUTY, OFF_DUTY, OFFLINE, BUSY = "on_duty", "off_duty", "offline", "busy"


@dataclass(frozen=True, slots=True)
class Fix:
    """One validated GPS fix; `t` is its time in epoch seconds."""

    worker_id: int
    lat: float
    lon: float
    at: datetime
    accuracy_m: float | None = None
    speed_mps: float | None = None
    heading: float | None = None

    @property
    def t(self) -> float:
        """Epoch seconds of the fix."""
        return self.at.timestamp()


@dataclass(frozen=True)
class LiveState:
    """What is known right now about one worker."""

    worker_id: int
    skills: frozenset[str] = frozenset()
    department: int | None = None
    grid_id: int | None = None
    duty: str = OFF_DUTY  # on_duty, off_duty or offline
    busy: bool = False
    case_id: int | None = None
    lat: float | None = None
    lon: float | None = None
    t: float | None = None  # epoch seconds of the live position
    accuracy_m: float | None = None
    speed_mps: float | None = None
    heading: float | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def status(self) -> str:
        """on_duty, busy, off_duty or offline, as shown on the wall."""
        if self.duty == ON_DUTY and self.busy:
            return BUSY
        return self.duty

    @property
    def available(self) -> bool:
        """Whether the worker can take an order now."""
        return self.duty == ON_DUTY and not self.busy and self.lat is not None

    def with_fix(self, fix: Fix) -> LiveState:
        """This state moved to `fix`."""
        return replace(
            self, lat=fix.lat, lon=fix.lon, t=fix.t, accuracy_m=fix.accuracy_m,
            speed_mps=fix.speed_mps, heading=fix.heading,
        )

    def member(self) -> Member:
        """The entry of this worker in the nearest index."""
        return Member(self.worker_id, self.lat, self.lon, self.skills, self.department, self.available)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view (skills as a sorted list, plus the derived status)."""
        data = asdict(self)
        data.pop("extra")
        data["skills"] = sorted(self.skills)
        data["status"] = self.status
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LiveState:
        """The inverse of to_dict."""
        fields = {k: v for k, v in data.items() if k in cls.__dataclass_fields__ and k != "extra"}
        return cls(**{**fields, "skills": frozenset(fields.get("skills") or ())})
