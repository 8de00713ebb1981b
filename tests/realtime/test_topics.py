"""Who may subscribe to what."""

from __future__ import annotations

import pytest

from realtime.topics import may_subscribe, valid_topic
from wall.auth import Principal

WALL = Principal("w", "wall")
COMMANDER = Principal("c", "commander")
WORKER = Principal("k", "worker", worker_id=7)
DEVICE = Principal("d", "device")
ADMIN = Principal("a", "admin")


@pytest.mark.parametrize("topic", ["cases", "positions", "incident.42", "user.7", "incident.a-b_c"])
def test_valid_topics(topic: str) -> None:
    assert valid_topic(topic)


@pytest.mark.parametrize("topic", ["", "Cases", "a.b.c", "x" * 40, "cases.", "../x", None, 3, "user.7 "])
def test_invalid_topics(topic: object) -> None:
    assert not valid_topic(topic)


@pytest.mark.parametrize(
    ("principal", "topic", "allowed"),
    [
        (WALL, "cases", True),
        (WALL, "incident.3", True),
        (WALL, "user.7", False),
        (COMMANDER, "alarms", True),
        (COMMANDER, "user.7", False),
        (WORKER, "user.7", True),
        (WORKER, "user.8", False),
        (WORKER, "cases", False),
        (WORKER, "positions", False),
        (WORKER, "incident.3", True),
        (DEVICE, "cases", False),
        (ADMIN, "user.8", True),
        (COMMANDER, "call.k3Jx9", True),
        (COMMANDER, "department.4", True),
        (WALL, "call.k3Jx9", False),
        (WORKER, "call.k3Jx9", True),
        (WORKER, "department.4", False),
        (None, "cases", False),
    ],
)
def test_role_permissions(principal: Principal | None, topic: str, allowed: bool) -> None:
    assert may_subscribe(principal, topic) is allowed
