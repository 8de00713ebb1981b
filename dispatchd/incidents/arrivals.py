"""Arrival of responders: the first position of a dispatched worker inside the incident's inner ring.

`observe` is a handler of the position pipeline (dispatchd/field/pipeline.py CHAIN): it sees the moves of
each batch and records, once per responder, the time of the first fix inside the inner ring.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from dispatchd.geo.distance import haversine_m
from dispatchd.incidents.timeline import record
from dispatchd.models import IncidentState, Responder


def observe(batch: Any) -> None:
    """Record arrivals among the batch's moves (`batch.moves`: (fix, live state) pairs in time order)."""
    moved: dict[int, list] = {}
    for fix, _state in batch.moves:
        moved.setdefault(fix.worker_id, []).append(fix)
    if not moved:
        return
    # The responders still on their way are few (none in peacetime); a batch may move thousands of workers,
    # so fetch the former and match in Python rather than send the batch's ids as a query parameter list.
    waiting = Responder.objects.select_related("incident").filter(
        arrived_at=None, incident__state=IncidentState.DECLARED
    )
    for responder in waiting:
        if responder.worker_id not in moved:
            continue
        incident = responder.incident
        inner = incident.rings_m[0]
        first = next((f for f in moved[responder.worker_id]
                      if haversine_m(incident.lat, incident.lon, f.lat, f.lon) <= inner), None)
        if first is None:
            continue
        with transaction.atomic():
            if Responder.objects.filter(pk=responder.pk, arrived_at=None).update(arrived_at=first.at):
                minutes = (first.at - responder.dispatched_at).total_seconds() / 60
                record(incident, "system:dispatchd", "arrival", f"到达核心圈（{minutes:.1f} 分钟）", {
                    "worker_id": responder.worker_id, "lat": first.lat, "lon": first.lon,
                    "response_s": round((first.at - responder.dispatched_at).total_seconds(), 1),
                }, at=first.at)
