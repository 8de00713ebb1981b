"""Nearest-personnel dispatch: recommend workers, offer a case to one, accept/decline, fall back on timeout.

An order is offered when the `dispatch` action names a worker (`on_dispatched`): the worker turns
busy and gets the order on `user.<id>`. Declining, or letting `WALL_DISPATCH_ACCEPT_TIMEOUT_S` pass
(`check_dispatch_timeouts`, run by the daemon), passes the case to the next nearest available
worker not asked yet; when there is none the case stays with its department, without a worker.
Every state change is a conditional UPDATE, so a decline racing a timeout passes the case on once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import F
from django.dispatch import Signal
from django.utils import timezone

from dispatchd import audit
from dispatchd.actors import SYSTEM, Actor
from dispatchd.errors import NotAllowed, NotFound, TransitionRefused
from dispatchd.events import publish_case, publish_on_commit
from dispatchd.field.config import setting
from dispatchd.field.live import live_store
from dispatchd.field.state import LiveState
from dispatchd.geo.distance import haversine_m
from dispatchd.models import Case, CaseEvent, CaseStatus, DispatchOrder, OrderState, Worker

# Sent (order=, now=) inside the transaction that declines or expires an offered order; an incident's own
# orders are replaced by its receiver (dispatchd/incidents/dispatch.py), since their case is not the worker's.
order_unanswered = Signal()


@dataclass(frozen=True)
class Recommendation:
    """A worker proposed for a place, with its straight-line distance and ETA."""

    state: LiveState
    distance_m: float
    eta_s: float

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view."""
        s = self.state
        return {
            "worker_id": s.worker_id, "lat": s.lat, "lon": s.lon, "status": s.status,
            "skills": sorted(s.skills), "department_id": s.department, "grid_id": s.grid_id,
            "distance_m": round(self.distance_m, 1), "eta_s": round(self.eta_s, 1),
        }


def recommend(
    lat: float,
    lon: float,
    k: int = 5,
    *,
    skill: str | None = None,
    department: int | None = None,
    available: bool | None = True,
    max_km: float | None = None,
    exclude: list[int] | tuple[int, ...] = (),
) -> list[Recommendation]:
    """The k nearest workers matching the filters, nearest first, with an ETA at the configured speed."""
    speed = setting("WALL_NEAREST_SPEED_MPS")
    hits = live_store().nearest(
        lat, lon, k, skill=skill, department=department, available=available,
        max_m=max_km * 1000 if max_km is not None else None, exclude=exclude,
    )
    return [Recommendation(state, distance, distance / speed) for state, distance in hits]


def order_dict(order: DispatchOrder) -> dict[str, Any]:
    """The public view of an order (what the worker's phone receives)."""
    case = order.case
    return {
        "id": order.id, "case_id": case.id, "case_number": case.number, "title": case.title,
        "lat": case.lat, "lon": case.lon, "address": case.address, "worker_id": order.worker_id,
        "state": order.state, "attempt": order.attempt, "distance_m": order.distance_m,
        "offered_at": order.offered_at.isoformat(), "expires_at": order.expires_at.isoformat(),
        "responded_at": order.responded_at.isoformat() if order.responded_at else None,
    }


def _audit(actor: Actor, state: str, order: DispatchOrder, **detail: Any) -> None:
    """Write an order's change of state to the audit log."""
    audit.record(actor, f"order.{state}", f"order:{order.pk}", case=order.case_id, worker=order.worker_id,
                 attempt=order.attempt, **detail)


def _set_busy(worker_id: int, busy: bool, case_id: int | None) -> None:
    """Mark a worker busy or free, in the database now and in the live store once committed."""
    if busy:
        Worker.objects.filter(pk=worker_id).update(state="busy")
    else:
        Worker.objects.filter(pk=worker_id, state="busy").update(state="on_duty")
    transaction.on_commit(lambda: live_store().update(worker_id, busy=busy, case_id=case_id))


def _offer(case: Case, worker_id: int, attempt: int, criteria: dict[str, Any], now: datetime) -> DispatchOrder:
    state = live_store().get(worker_id)
    distance = None
    if state is not None and state.lat is not None:
        distance = round(haversine_m(case.lat, case.lon, state.lat, state.lon), 1)
    order = DispatchOrder.objects.create(
        case=case, worker_id=worker_id, attempt=attempt, distance_m=distance, criteria=criteria,
        offered_at=now, expires_at=now + timedelta(seconds=setting("WALL_DISPATCH_ACCEPT_TIMEOUT_S")),
    )
    _set_busy(worker_id, True, case.id)
    _audit(SYSTEM, "offered", order, distance_m=distance)
    publish_on_commit(f"user.{worker_id}", "dispatch.order", order_dict(order))
    return order


def _close_open_orders(case: Case, state: str, now: datetime) -> None:
    for order in DispatchOrder.objects.filter(case=case, state__in=[OrderState.OFFERED, OrderState.ACCEPTED]):
        if DispatchOrder.objects.filter(pk=order.pk, state=order.state).update(state=state, responded_at=now):
            _set_busy(order.worker_id, False, None)
            _audit(SYSTEM, state, order)
            publish_on_commit(f"user.{order.worker_id}", f"dispatch.{state}", {"id": order.id, "case_id": case.id})


def on_dispatched(case: Case, worker: Worker | None, skill: str | None = None) -> DispatchOrder | None:
    """Offer `case` to `worker` (after the `dispatch` or `redispatch` action); earlier offers are cancelled."""
    now = timezone.now()
    _close_open_orders(case, OrderState.CANCELLED, now)
    if worker is None:
        return None
    criteria = {"department": case.department_id, "skill": skill}
    return _offer(case, worker.id, 1, criteria, now)


def offer_more(case: Case, worker_id: int, skill: str | None = None) -> DispatchOrder:
    """Offer `case` to one more worker, leaving other offers open (an incident dispatches several at once)."""
    return _offer(case, worker_id, 1, {"department": None, "skill": skill}, timezone.now())


def on_case_released(case: Case) -> None:
    """Free the worker of a case that left their hands (feedback, return, close, void …)."""
    _close_open_orders(case, OrderState.CANCELLED, timezone.now())


def _order_for(order_id: int, worker_id: int, actor: Actor) -> DispatchOrder:
    if actor.role == "worker" and actor.worker_id != worker_id:
        raise NotAllowed("a worker may answer only its own orders")
    if actor.role not in ("worker", "commander", "admin", "system"):
        raise NotAllowed(f"role {actor.role} may not answer orders")
    order = DispatchOrder.objects.select_related("case").filter(pk=order_id, worker_id=worker_id).first()
    if order is None:
        raise NotFound(f"no order {order_id} for worker {worker_id}")
    return order


def _answer(order: DispatchOrder, state: str, now: datetime, note: str) -> None:
    changed = DispatchOrder.objects.filter(pk=order.pk, state=OrderState.OFFERED).update(
        state=state, responded_at=now, note=note[:200]
    )
    if not changed:
        raise TransitionRefused(f"order {order.pk} is no longer offered")
    order.refresh_from_db()


def _timeline(case: Case, actor: Actor, action: str, note: str, data: dict[str, Any]) -> None:
    CaseEvent.objects.create(
        case=case, actor=actor.label, action=action, from_status=case.status, to_status=case.status,
        note=note, data=data,
    )
    publish_case(case, action)


def accept(order_id: int, worker_id: int, actor: Actor) -> DispatchOrder:
    """The worker takes the order; the case stays with them."""
    now = timezone.now()
    with transaction.atomic():
        order = _order_for(order_id, worker_id, actor)
        _answer(order, OrderState.ACCEPTED, now, "")
        _timeline(order.case, actor, "order_accepted", "", {"order": order.id, "worker": worker_id})
        _audit(actor, OrderState.ACCEPTED, order)
    return order


def decline(order_id: int, worker_id: int, actor: Actor, note: str = "") -> DispatchOrder:
    """The worker refuses the order; the case passes to the next nearest worker."""
    now = timezone.now()
    with transaction.atomic():
        order = _order_for(order_id, worker_id, actor)
        _answer(order, OrderState.DECLINED, now, note)
        _timeline(order.case, actor, "order_declined", note, {"order": order.id, "worker": worker_id})
        _audit(actor, OrderState.DECLINED, order, note=note)
        _set_busy(worker_id, False, None)
        _fall_back(order, now)
    return order


def _fall_back(order: DispatchOrder, now: datetime) -> DispatchOrder | None:
    """Pass the order's case to the nearest available worker not asked yet, if it still waits on this one."""
    order_unanswered.send(sender=DispatchOrder, order=order, now=now)
    case = Case.objects.select_related("category").get(pk=order.case_id)
    if case.status != CaseStatus.DISPATCHED or case.worker_id != order.worker_id:
        return None  # someone re-dispatched or the case moved on meanwhile
    asked = list(DispatchOrder.objects.filter(case=case).values_list("worker_id", flat=True))
    criteria = order.criteria or {}
    found = recommend(
        case.lat, case.lon, 1, skill=criteria.get("skill"), department=criteria.get("department"),
        max_km=setting("WALL_DISPATCH_FALLBACK_MAX_KM"), exclude=asked,
    )
    next_id = found[0].state.worker_id if found else None
    changed = Case.objects.filter(pk=case.pk, version=case.version).update(
        worker_id=next_id, version=F("version") + 1, updated_at=now
    )
    if not changed:
        return None
    case.refresh_from_db()
    reason = "timeout" if order.state == OrderState.EXPIRED else "declined"
    data = {"from_worker": order.worker_id, "to_worker": next_id, "reason": reason, "order": order.id}
    _timeline(case, SYSTEM, "dispatch_fallback" if next_id else "dispatch_unassigned", "", data)
    _audit(SYSTEM, "fallback" if next_id else "unassigned", order, to_worker=next_id, reason=reason)
    if next_id is None:
        return None
    return _offer(case, next_id, order.attempt + 1, criteria, now)


def check_dispatch_timeouts(now: datetime | None = None) -> int:
    """Expire orders not answered in time and pass their cases on; returns how many expired."""
    now = now or timezone.now()
    expired = 0
    due = DispatchOrder.objects.filter(state=OrderState.OFFERED, expires_at__lte=now).values_list("pk", flat=True)
    for order_id in list(due[:500]):
        with transaction.atomic():
            if not DispatchOrder.objects.filter(pk=order_id, state=OrderState.OFFERED).update(
                state=OrderState.EXPIRED, responded_at=now
            ):
                continue
            order = DispatchOrder.objects.select_related("case").get(pk=order_id)
            _set_busy(order.worker_id, False, None)
            _audit(SYSTEM, OrderState.EXPIRED, order)
            publish_on_commit(f"user.{order.worker_id}", "dispatch.expired", {"id": order.id, "case_id": order.case_id})
            _fall_back(order, now)
            expired += 1
    return expired
