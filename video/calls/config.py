"""Settings of the call service, as a dataclass (the wiring maps them from Django settings/env)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class CallSettings:
    """Timers, limits, ICE servers and where recordings go."""

    ice_servers: list[dict[str, Any]] = field(default_factory=list)  # [] = host candidates only, no STUN
    ring_timeout: float = 30.0  # an unanswered invitation is missed after this long
    connect_timeout: float = 20.0  # a joined participant whose connection never comes up leaves
    reconnect_grace: float = 20.0  # a participant whose connection failed may reconnect within this
    max_sessions: int = 64
    max_participants: int = 6  # per session, cameras included
    max_slots: int = 5  # remote participants one peer may receive
    recordings: Path = Path("recordings")

    def __post_init__(self) -> None:
        for server in self.ice_servers:
            if not isinstance(server, dict) or not server.get("urls"):
                raise ValueError("every ICE server needs urls (and optionally username, credential)")


def _setting(settings: Any, name: str, default: Any) -> Any:
    return getattr(settings, name, os.environ.get(name, default))


def from_django(settings: Any) -> CallSettings:
    """CallSettings from Django settings, falling back to the environment (WALL_CALLS_*)."""
    servers = _setting(settings, "WALL_CALLS_ICE_SERVERS", "[]")
    return CallSettings(
        ice_servers=json.loads(servers) if isinstance(servers, str) else list(servers),
        ring_timeout=float(_setting(settings, "WALL_CALLS_RING_S", 30.0)),
        connect_timeout=float(_setting(settings, "WALL_CALLS_CONNECT_S", 20.0)),
        reconnect_grace=float(_setting(settings, "WALL_CALLS_RECONNECT_S", 20.0)),
        max_sessions=int(_setting(settings, "WALL_CALLS_MAX_SESSIONS", 64)),
        max_participants=int(_setting(settings, "WALL_CALLS_MAX_PARTICIPANTS", 6)),
        max_slots=int(_setting(settings, "WALL_CALLS_MAX_SLOTS", 5)),
        recordings=Path(settings.MEDIA_ROOT) / "recordings",
    )
