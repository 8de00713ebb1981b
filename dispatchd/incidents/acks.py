"""Acknowledgements of incident orders: the workers' accept/decline of their order, onto the incident timeline."""

from __future__ import annotations

from django.db.models.signals import post_save

from dispatchd.incidents.timeline import record
from dispatchd.models import CaseEvent, IncidentState, Responder

ANSWERS = {"order_accepted": "接单", "order_declined": "拒单"}


def _case_event_saved(sender, instance: CaseEvent, created: bool, **_kwargs) -> None:
    if not created or instance.action not in ANSWERS:
        return
    order_id = (instance.data or {}).get("order")
    responder = Responder.objects.select_related("incident").filter(
        order_id=order_id, incident__state=IncidentState.DECLARED
    ).first()
    if responder is None:
        return
    record(responder.incident, instance.actor, "ack", f"{ANSWERS[instance.action]} {instance.note}".strip(), {
        "worker_id": responder.worker_id, "order": order_id, "accepted": instance.action == "order_accepted",
    }, at=instance.at)


def connect_signals() -> None:
    """Put every answer to an incident's order on the incident's timeline (called from the app's ready())."""
    post_save.connect(_case_event_saved, sender=CaseEvent, dispatch_uid="incident-order-answers")
