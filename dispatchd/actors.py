"""Who acts on the domain: a name, a role, and for field workers their worker id."""

from __future__ import annotations

from dataclasses import dataclass

ROLES = ("wall", "commander", "worker", "device", "admin")
SYSTEM_ROLES = ("system",)


@dataclass(frozen=True)
class Actor:
    """An authenticated caller or an internal component acting on the domain."""

    name: str
    role: str
    worker_id: int | None = None

    @property
    def label(self) -> str:
        """The name written on timelines."""
        return f"{self.role}:{self.name}"


SYSTEM = Actor(name="dispatchd", role="system")
