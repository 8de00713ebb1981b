"""Dispatching the nearest N available workers to an incident at once, each with their own order."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from dispatchd import dispatching
from dispatchd.actors import Actor
from dispatchd.errors import InvalidInput
from dispatchd.incidents.command import active
from dispatchd.incidents.timeline import record
from dispatchd.models import Responder

MAX_N = 50


def dispatch_nearest(incident_id: int, n: int, actor: Actor, skill: str | None = None) -> list[dict[str, Any]]:
    """Offer the incident's case to the n nearest available workers not dispatched yet; their orders."""
    if not 1 <= n <= MAX_N:
        raise InvalidInput({"n": f"from 1 to {MAX_N}"})
    with transaction.atomic():
        incident = active(incident_id)
        if incident.case is None:
            raise InvalidInput({"case": "the incident's case is gone; declare again from a case"})
        already = list(Responder.objects.filter(incident=incident).values_list("worker_id", flat=True))
        found = dispatching.recommend(incident.lat, incident.lon, n, skill=skill, exclude=already)
        sent = []
        for rec in found:
            order = dispatching.offer_more(incident.case, rec.state.worker_id, skill)
            Responder.objects.create(
                incident=incident, worker_id=order.worker_id, order=order, distance_m=order.distance_m,
                dispatched_at=order.offered_at,
            )
            sent.append(dispatching.order_dict(order))
        record(incident, actor.label, "dispatch", f"就近派遣 {len(sent)}/{n} 人", {
            "n": n, "skill": skill, "orders": [{"order": o["id"], "worker_id": o["worker_id"],
                                               "distance_m": o["distance_m"]} for o in sent],
        })
    return sent
