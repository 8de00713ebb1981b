"""The case loop: every action, from which statuses it is allowed, who may take it, what it changes.

Each action is one small function registered in ACTIONS. `perform()` checks role and status,
lets the action compute its changes, writes them under a version check (so two concurrent
transitions cannot both succeed), appends the timeline entry and publishes after commit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from dispatchd import audit, dispatching, sla
from dispatchd.actors import Actor
from dispatchd.errors import ConcurrentUpdate, InvalidInput, NotAllowed, NotFound, TransitionRefused
from dispatchd.events import publish_case
from dispatchd.models import Attachment, Case, CaseEvent, CaseStatus, Department, Worker
from dispatchd.models.catalog import Severity
from dispatchd.rules.routing import route

S = CaseStatus
OPEN = frozenset({S.REPORTED, S.ACCEPTED, S.REGISTERED, S.DISPATCHED, S.HANDLING, S.FEEDBACK, S.VERIFIED})
IN_HANDS = frozenset({S.DISPATCHED, S.HANDLING})
KEEPS_EXTENSION = IN_HANDS | {S.SUSPENDED}
COMMAND = frozenset({"commander", "admin", "system"})
FIELD = COMMAND | {"worker"}


@dataclass
class Outcome:
    """What an action does: the new status, field changes, and what to write on the timeline."""

    to_status: str
    updates: dict[str, Any] = field(default_factory=dict)
    note: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    after: list[Callable[[Case], None]] = field(default_factory=list)


@dataclass(frozen=True)
class Action:
    name: str
    sources: frozenset[str]
    roles: frozenset[str]
    apply: Callable[[Case, dict[str, Any], Actor, datetime], Outcome]
    label: str


ACTIONS: dict[str, Action] = {}


def action(name: str, sources, roles, label: str):
    """Register an action of the loop."""

    def register(fn):
        ACTIONS[name] = Action(name, frozenset(sources), frozenset(roles), fn, label)
        return fn

    return register


def _note(params: dict[str, Any], required: bool = False) -> str:
    note = str(params.get("note") or "").strip()
    if required and not note:
        raise InvalidInput({"note": "a reason is required for this action"})
    return note


def _department(ref: Any, field_name: str = "department") -> Department:
    dept = Department.objects.filter(pk=ref).first() if isinstance(ref, int) else None
    if dept is None:
        raise InvalidInput({field_name: f"unknown department {ref!r}"})
    return dept


def _worker(ref: Any) -> Worker:
    worker = Worker.objects.filter(pk=ref).first() if isinstance(ref, int) else None
    if worker is None:
        raise InvalidInput({"worker": f"unknown worker {ref!r}"})
    return worker


def _set_assist(ids: list[int]) -> Callable[[Case], None]:
    return lambda case: case.assist_departments.set(ids)


@action("accept", {S.REPORTED}, COMMAND, "受理")
def _accept(case, params, actor, now):
    return Outcome(S.ACCEPTED, note=_note(params))


@action("void", {S.REPORTED, S.ACCEPTED}, COMMAND, "作废")
def _void(case, params, actor, now):
    return Outcome(S.VOIDED, note=_note(params, required=True))


@action("merge", {S.REPORTED, S.ACCEPTED, S.REGISTERED}, COMMAND, "并案")
def _merge(case, params, actor, now):
    ref = params.get("into")
    target = None
    if isinstance(ref, int):
        target = Case.objects.filter(pk=ref).first()
    elif isinstance(ref, str):
        target = Case.objects.filter(number=ref).first()
    if target is None:
        raise InvalidInput({"into": f"unknown case {ref!r}"})
    if target.pk == case.pk:
        raise InvalidInput({"into": "a case cannot be merged into itself"})
    # Lock both cases in id order, so that two cases merged into each other at once cannot both merge.
    locked = {c.pk: c for c in Case.objects.select_for_update().filter(pk__in=[case.pk, target.pk]).order_by("pk")}
    if locked[case.pk].version != case.version:
        raise ConcurrentUpdate(f"case {case.number} was changed by someone else; reload and retry")
    target = locked[target.pk]
    if target.status in (S.VOIDED, S.MERGED):
        raise TransitionRefused(f"case {target.number} is {target.status}; merge into a live case")
    note = _note(params)

    def mark_target(merged: Case) -> None:
        Case.objects.filter(pk=target.pk).update(version=F("version") + 1, updated_at=now)
        target.refresh_from_db()
        CaseEvent.objects.create(
            case=target, actor=actor.label, action="merge_in", from_status=target.status,
            to_status=target.status, note=note, data={"merged_case": merged.number},
        )
        publish_case(target, "merged_in")

    return Outcome(
        S.MERGED, {"merged_into": target}, note, {"into": target.number}, after=[mark_target]
    )


@action("register", {S.ACCEPTED}, COMMAND, "立案")
def _register(case, params, actor, now):
    updates: dict[str, Any] = {}
    if params.get("severity") is not None:
        if params["severity"] not in Severity.values:
            raise InvalidInput({"severity": f"one of {', '.join(Severity.values)}"})
        updates["severity"] = params["severity"]
    if params.get("urgent") is not None:
        updates["urgent"] = bool(params["urgent"])
    department, reason = route(case.category, case.street_id, case.grid_id)
    updates.update(department=department, routed_by_rule=department is not None)
    data = {"routed_department": department.id if department else None, "routing": reason}
    return Outcome(S.REGISTERED, updates, _note(params), data)


@action("dispatch", {S.REGISTERED}, COMMAND, "派遣")
def _dispatch(case, params, actor, now):
    worker = _worker(params["worker"]) if params.get("worker") is not None else None
    if params.get("department") is not None:
        department = _department(params["department"])
    elif worker is not None and worker.department_id:
        department = worker.department
    elif case.department_id:
        department = case.department
    else:
        raise InvalidInput({"department": "no routing rule matched; name the department"})
    assist = [_department(ref, "assist_departments").id for ref in params.get("assist_departments") or []]
    if department.id in assist:
        raise InvalidInput({"assist_departments": "the main department cannot also assist"})
    data: dict[str, Any] = {"department": department.id, "assist_departments": assist}
    if worker:
        data["worker"] = worker.id
    if case.routed_by_rule and case.department_id and case.department_id != department.id:
        data["override"] = {"routed": case.department_id, "chosen": department.id}
    updates = {"department": department, "worker": worker, "dispatch_level": 1}
    return Outcome(S.DISPATCHED, updates, _note(params), data, after=[_set_assist(assist)])


@action("redispatch", IN_HANDS, COMMAND, "多级派遣")
def _redispatch(case, params, actor, now):
    if params.get("department") is None and params.get("worker") is None:
        raise InvalidInput({"department": "name the unit or the worker to pass the case on to"})
    updates: dict[str, Any] = {"dispatch_level": case.dispatch_level + 1}
    data: dict[str, Any] = {"level": case.dispatch_level + 1}
    if params.get("department") is not None:
        updates["department"] = _department(params["department"])
        data["department"] = updates["department"].id
    if params.get("worker") is not None:
        updates["worker"] = _worker(params["worker"])
        data["worker"] = updates["worker"].id
    return Outcome(S.DISPATCHED, updates, _note(params), data)


@action("handle", {S.DISPATCHED}, FIELD, "处置")
def _handle(case, params, actor, now):
    return Outcome(S.HANDLING, note=_note(params))


@action("feedback", IN_HANDS, FIELD, "反馈")
def _feedback(case, params, actor, now):
    ids = params.get("attachments") or []
    if not isinstance(ids, list) or not all(isinstance(i, int) for i in ids):
        raise InvalidInput({"attachments": "a list of attachment ids"})
    found = set(Attachment.objects.filter(case=case, pk__in=ids).values_list("pk", flat=True))
    if missing := sorted(set(ids) - found):
        raise InvalidInput({"attachments": f"not attachments of this case: {missing}"})
    return Outcome(S.FEEDBACK, note=_note(params, required=True), data={"attachments": ids})


@action("verify", {S.FEEDBACK}, COMMAND, "核查")
def _verify(case, params, actor, now):
    if params.get("passed", True):
        return Outcome(S.VERIFIED, note=_note(params), data={"passed": True})
    return _rework(case, params, actor, now)


@action("rework", {S.FEEDBACK, S.VERIFIED}, COMMAND, "返工")
def _rework(case, params, actor, now):
    updates = {"rework_count": case.rework_count + 1}
    return Outcome(S.DISPATCHED, updates, _note(params, required=True), {"passed": False, "rework": True})


@action("close", {S.VERIFIED, S.FEEDBACK}, COMMAND, "结案")
def _close(case, params, actor, now):
    quick = case.status == S.FEEDBACK
    return Outcome(S.CLOSED, {"closed_at": now}, _note(params), {"quick": quick} if quick else {})


@action("evaluate", {S.CLOSED}, COMMAND, "评价")
def _evaluate(case, params, actor, now):
    score = params.get("score")
    if not isinstance(score, int) or isinstance(score, bool) or not 1 <= score <= 5:
        raise InvalidInput({"score": "an integer from 1 to 5"})
    return Outcome(S.EVALUATED, {"evaluation": score}, _note(params), {"score": score})


@action("return", IN_HANDS, FIELD, "回退")
def _return(case, params, actor, now):
    updates = {"worker": None, "dispatch_level": 0}
    return Outcome(S.REGISTERED, updates, _note(params, required=True), after=[_set_assist([])])


@action("extend_request", IN_HANDS, FIELD, "延期申请")
def _extend_request(case, params, actor, now):
    hours = params.get("hours")
    if not isinstance(hours, (int, float)) or isinstance(hours, bool) or not 0 < hours <= 720:
        raise InvalidInput({"hours": "a number of hours above 0 and at most 720"})
    if case.extension_pending_hours is not None:
        raise TransitionRefused("an extension request is already pending")
    return Outcome(case.status, {"extension_pending_hours": float(hours)}, _note(params, True), {"hours": hours})


def _pending(case) -> float:
    if case.extension_pending_hours is None:
        raise TransitionRefused("no extension request is pending")
    return case.extension_pending_hours


@action("extend_approve", IN_HANDS, COMMAND, "延期批准")
def _extend_approve(case, params, actor, now):
    hours = _pending(case)
    updates = {"extension_pending_hours": None, **sla.extend(case, hours, now)}
    return Outcome(case.status, updates, _note(params), {"hours": hours})


@action("extend_reject", IN_HANDS, COMMAND, "延期驳回")
def _extend_reject(case, params, actor, now):
    hours = _pending(case)
    return Outcome(case.status, {"extension_pending_hours": None}, _note(params, True), {"hours": hours})


@action("suspend", IN_HANDS, COMMAND, "挂账")
def _suspend(case, params, actor, now):
    updates = {"status_before_suspend": case.status, **sla.pause(case, now)}
    return Outcome(S.SUSPENDED, updates, _note(params, required=True))


@action("resume", {S.SUSPENDED}, COMMAND, "恢复")
def _resume(case, params, actor, now):
    previous = case.status_before_suspend or S.DISPATCHED
    return Outcome(previous, {"status_before_suspend": "", **sla.resume(case, now)}, _note(params))


@action("supervise", OPEN | {S.SUSPENDED}, COMMAND, "督办")
def _supervise(case, params, actor, now):
    count = case.supervise_count + 1
    return Outcome(case.status, {"supervise_count": count}, _note(params, True), {"count": count})


def _check_actor(spec: Action, case: Case, actor: Actor) -> None:
    if actor.role not in spec.roles:
        raise NotAllowed(f"role {actor.role} may not {spec.name} cases")
    if actor.role == "worker" and (actor.worker_id is None or case.worker_id != actor.worker_id):
        raise NotAllowed("a worker may act only on cases assigned to them")


def attach(case: Case, actor: Actor, name: str, content_type: str, file: Any) -> Attachment:
    """Keep a photo or file with a case: stored, written on the timeline and announced (no status change)."""
    with transaction.atomic():
        attachment = Attachment.objects.create(
            case=case, name=name, content_type=content_type, size=file.size, file=file
        )
        event = CaseEvent.objects.create(
            case=case, actor=actor.label, action="attach", from_status=case.status, to_status=case.status,
            data={"attachment": attachment.id, "name": name, "content_type": content_type, "size": file.size},
        )
        Attachment.objects.filter(pk=attachment.pk).update(event=event)
        audit.record(actor, "case.attach", f"case:{case.id}", number=case.number, attachment=attachment.id,
                     name=name, content_type=content_type, size=file.size)
        publish_case(case, "attach")
    return attachment


def _sync_orders(case: Case, from_status: str, updates: dict[str, Any], params: dict[str, Any]) -> None:
    """Keep dispatch orders in step with the case: offer to a newly named worker, free one let go."""
    if "worker" in updates:  # dispatch, redispatch, return: (re)assigned or unassigned
        dispatching.on_dispatched(case, updates["worker"], params.get("skill"))
    elif case.status == S.DISPATCHED and from_status in (S.FEEDBACK, S.VERIFIED) and case.worker_id:
        dispatching.on_dispatched(case, case.worker, params.get("skill"))  # rework goes back to the worker
    elif from_status in IN_HANDS and case.status not in IN_HANDS | {S.SUSPENDED}:
        dispatching.on_case_released(case)


def allowed_actions(case: Case) -> list[str]:
    """Names of the actions allowed from the case's current status."""
    return [name for name, spec in ACTIONS.items() if case.status in spec.sources]


def perform(case_id: int, name: str, actor: Actor, params: dict[str, Any] | None = None) -> Case:
    """Take action `name` on a case. Refusals raise a DomainError and change nothing."""
    spec = ACTIONS.get(name)
    if spec is None:
        raise NotFound(f"unknown action {name!r}; one of {', '.join(ACTIONS)}")
    params = params or {}
    now = timezone.now()
    with transaction.atomic():
        case = Case.objects.select_related("category", "department").filter(pk=case_id).first()
        if case is None:
            raise NotFound(f"no case {case_id}")
        _check_actor(spec, case, actor)
        if case.status not in spec.sources:
            allowed = ", ".join(sorted(spec.sources))
            raise TransitionRefused(f"cannot {name} a case that is {case.status} (allowed from: {allowed})")
        from_status = case.status
        outcome = spec.apply(case, params, actor, now)
        updates = dict(outcome.updates)
        if outcome.to_status != case.status:
            updates["status"] = outcome.to_status
            if case.status != S.SUSPENDED:
                updates = {**sla.timer_for(case, outcome.to_status, now), **updates}
            if outcome.to_status not in KEEPS_EXTENSION:
                updates["extension_pending_hours"] = None  # a request lapses once the handlers let go
        changed = Case.objects.filter(pk=case.pk, version=case.version).update(
            **updates, version=F("version") + 1, updated_at=now
        )
        if changed != 1:
            raise ConcurrentUpdate(f"case {case.number} was changed by someone else; reload and retry")
        case.refresh_from_db()
        for step in outcome.after:
            step(case)
        _sync_orders(case, from_status, updates, params)
        CaseEvent.objects.create(
            case=case, actor=actor.label, action=name, from_status=from_status,
            to_status=case.status, note=outcome.note, data=outcome.data,
        )
        audit.record(actor, f"case.{name}", f"case:{case.id}", number=case.number, from_status=from_status,
                     to_status=case.status, note=outcome.note, data=outcome.data)
        publish_case(case, name)
    return case
