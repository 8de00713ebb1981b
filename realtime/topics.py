"""Topic names and which role may subscribe to which topic."""

from __future__ import annotations

import re
from typing import Any

TOPIC_RE = re.compile(r"^[a-z][a-z0-9_-]{0,31}(\.[A-Za-z0-9_-]{1,40})?$")
POSITIONS = "positions"

# Topics any display role may read; `incident.<id>` and `user.<id>` are families.
_PUBLIC = frozenset({"cases", "positions", "sensors", "alarms", "cameras", "incidents"})
_FAMILIES = frozenset({"incident"})


def valid_topic(topic: Any) -> bool:
    """Whether `topic` is a well-formed topic name."""
    return isinstance(topic, str) and bool(TOPIC_RE.match(topic))


def may_subscribe(principal: Any, topic: str) -> bool:
    """Whether `principal` (with .role and .worker_id) may subscribe to `topic`.

    admin: everything; commander and wall: the public topics and incident.<id>; commander also
    call.<id> (call ids are unguessable: the name is the capability) and department.<id> (seats offered to
    a department in a dispatch session); worker: its own user.<worker_id>, incidents, incident.<id> and
    call.<id>; device: nothing.
    """
    role = getattr(principal, "role", None)
    family = topic.partition(".")[0] if "." in topic else None
    if role == "admin":
        return True
    if role == "commander" and family in ("call", "department"):
        return True
    if role in ("commander", "wall"):
        return topic in _PUBLIC or family in _FAMILIES
    if role == "worker":
        worker_id = getattr(principal, "worker_id", None)
        own = worker_id is not None and topic == f"user.{worker_id}"
        return own or topic == "incidents" or family in _FAMILIES or family == "call"
    return False
