"""Publishing domain changes to the hub, once the database transaction has committed."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from realtime import publish, publish_many


def publish_on_commit(topic: str, event_type: str, data: dict[str, Any]) -> None:
    """Publish {type, data} on `topic` after the current transaction commits (at once outside one)."""
    transaction.on_commit(lambda: publish(topic, {"type": event_type, "data": data}))


def publish_many_on_commit(topic: str, event_type: str, items: list[dict[str, Any]]) -> None:
    """Publish one `event_type` event per item on `topic`, in one append, after the transaction commits."""
    if items:
        events = [{"type": event_type, "data": item} for item in items]
        transaction.on_commit(lambda: publish_many(topic, events))


def publish_case(case, action: str) -> None:
    """Announce a change of `case` on the `cases` topic as `case.<action>`."""
    from dispatchd.serialize import case_dict

    publish_on_commit("cases", f"case.{action}", case_dict(case))
