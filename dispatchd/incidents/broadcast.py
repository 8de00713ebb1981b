"""Broadcasting an order to every worker inside a ring, with delivery and read receipts."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from dispatchd.actors import Actor
from dispatchd.errors import InvalidInput, NotAllowed, NotFound
from dispatchd.events import publish_on_commit
from dispatchd.incidents.command import active, get
from dispatchd.incidents.nearby import workers_within
from dispatchd.incidents.timeline import record
from dispatchd.models import Broadcast, BroadcastReceipt


def sent(incident_id: int) -> QuerySet[Broadcast]:
    """The incident's broadcasts in the order sent, their receipts fetched with them (one query, not one each)."""
    return Broadcast.objects.filter(incident_id=incident_id).prefetch_related("receipts").order_by("sent_at", "id")


def broadcast_dict(item: Broadcast) -> dict[str, Any]:
    """The public view of a broadcast with its receipts."""
    receipts = [
        {"worker_id": r.worker_id, "distance_m": r.distance_m, "delivered_at": r.delivered_at.isoformat(),
         "read_at": r.read_at.isoformat() if r.read_at else None}
        for r in sorted(item.receipts.all(), key=lambda r: (r.distance_m, r.worker_id))  # prefetch-friendly
    ]
    return {
        "id": item.id, "incident_id": item.incident_id, "ring_m": item.ring_m, "text": item.text,
        "sent_by": item.sent_by, "sent_at": item.sent_at.isoformat(), "receipts": receipts,
        "delivered": len(receipts), "read": sum(1 for r in receipts if r["read_at"]),
    }


def broadcast(incident_id: int, ring_m: int, text: str, actor: Actor) -> Broadcast:
    """Send `text` as `incident.broadcast` on `user.<id>` of exactly the workers inside ring `ring_m` now."""
    if not text.strip():
        raise InvalidInput({"text": "must not be empty"})
    now = timezone.now()
    with transaction.atomic():
        incident = active(incident_id)
        if ring_m not in incident.rings_m:
            raise InvalidInput({"ring_m": f"one of the incident's rings: {incident.rings_m}"})
        item = Broadcast.objects.create(incident=incident, ring_m=ring_m, text=text.strip(), sent_by=actor.label,
                                        sent_at=now)
        inside = workers_within(incident, ring_m)
        BroadcastReceipt.objects.bulk_create(
            BroadcastReceipt(broadcast=item, worker_id=s.worker_id, distance_m=round(d, 1), delivered_at=now)
            for s, d in inside
        )
        for state, distance in inside:
            publish_on_commit(f"user.{state.worker_id}", "incident.broadcast", {
                "id": item.id, "incident_id": incident.id, "title": incident.title, "ring_m": ring_m,
                "text": item.text, "sent_at": now.isoformat(), "distance_m": round(distance, 1),
            })
        record(incident, actor.label, "broadcast", item.text, {
            "broadcast": item.id, "ring_m": ring_m, "workers": [s.worker_id for s, _ in inside],
        })
    return item


def mark_read(incident_id: int, broadcast_id: int, actor: Actor) -> BroadcastReceipt:
    """The worker has read the broadcast (idempotent: the first read time stays)."""
    if actor.role != "worker" or actor.worker_id is None:
        raise NotAllowed("only the worker it was sent to may mark a broadcast read")
    incident = get(incident_id)
    with transaction.atomic():
        receipt = BroadcastReceipt.objects.filter(
            broadcast_id=broadcast_id, broadcast__incident=incident, worker_id=actor.worker_id
        ).first()
        if receipt is None:
            raise NotFound(f"no broadcast {broadcast_id} to worker {actor.worker_id} in incident {incident_id}")
        if receipt.read_at is None:
            now = timezone.now()
            if BroadcastReceipt.objects.filter(pk=receipt.pk, read_at=None).update(read_at=now):
                receipt.read_at = now
                record(incident, actor.label, "broadcast_read", "", {
                    "broadcast": broadcast_id, "worker_id": actor.worker_id,
                })
    return receipt
