"""Dispatching the nearest N available workers to an incident at once, each with their own order."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from dispatchd import dispatching
from dispatchd.actors import Actor
from dispatchd.errors import InvalidInput
from dispatchd.incidents.command import active
from dispatchd.incidents.timeline import record
from dispatchd.models import DispatchOrder, Incident, IncidentState, OrderState, Responder

MAX_N = 50


def _nearest(incident: Incident, n: int, skill: str | None) -> list[dispatching.Recommendation]:
    """The n nearest available workers (with the skill) not dispatched to the incident yet."""
    already = list(Responder.objects.filter(incident=incident).values_list("worker_id", flat=True))
    return dispatching.recommend(incident.lat, incident.lon, n, skill=skill, exclude=already)


def _send(incident: Incident, rec: dispatching.Recommendation, skill: str | None) -> DispatchOrder:
    """Offer the incident's case to the recommended worker and enrol them as a responder."""
    order = dispatching.offer_more(incident.case, rec.state.worker_id, skill)
    Responder.objects.create(incident=incident, worker_id=order.worker_id, order=order, distance_m=order.distance_m,
                             dispatched_at=order.offered_at)
    return order


def dispatch_nearest(incident_id: int, n: int, actor: Actor, skill: str | None = None) -> list[dict[str, Any]]:
    """Offer the incident's case to the n nearest available workers not dispatched yet; their orders."""
    if not 1 <= n <= MAX_N:
        raise InvalidInput({"n": f"from 1 to {MAX_N}"})
    with transaction.atomic():
        incident = active(incident_id)
        if incident.case is None:
            raise InvalidInput({"case": "the incident's case is gone; declare again from a case"})
        sent = [dispatching.order_dict(_send(incident, rec, skill)) for rec in _nearest(incident, n, skill)]
        record(incident, actor.label, "dispatch", f"就近派遣 {len(sent)}/{n} 人", {
            "n": n, "skill": skill, "orders": [{"order": o["id"], "worker_id": o["worker_id"],
                                               "distance_m": o["distance_m"]} for o in sent],
        })
    return sent


def _replace_unanswered(sender: Any, order: DispatchOrder, now: Any, **_kwargs: Any) -> None:
    """An incident's order declined or expired: offer the incident to the next nearest worker not sent yet."""
    responder = Responder.objects.select_related("incident").filter(
        order=order, incident__state=IncidentState.DECLARED
    ).first()
    if responder is None or responder.incident.case_id is None:
        return
    incident = responder.incident
    skill = (order.criteria or {}).get("skill")
    reason = "timeout" if order.state == OrderState.EXPIRED else "declined"
    found = _nearest(incident, 1, skill)
    data: dict[str, Any] = {"replaces": {"order": order.id, "worker_id": order.worker_id}, "reason": reason}
    if not found:
        record(incident, "system:dispatchd", "dispatch", "无人接单，暂无可替补人员", data | {"orders": []})
        return
    new = _send(incident, found[0], skill)
    text = "超时未接单，替补派遣" if reason == "timeout" else "拒单，替补派遣"
    record(incident, "system:dispatchd", "dispatch", text, data | {
        "n": 1, "skill": skill,
        "orders": [{"order": new.id, "worker_id": new.worker_id, "distance_m": new.distance_m}],
    })


def connect_signals() -> None:
    """Replace an incident's declined or expired orders (called from the app's ready())."""
    dispatching.order_unanswered.connect(_replace_unanswered, dispatch_uid="incident-order-fallback")
