"""How the simulated command hall moves a case on: the next action, its parameters and who takes it.

Shared by the seeded history (on a simulated clock) and the live flow (in real time).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from dispatchd.actors import Actor
from dispatchd.geo.distance import haversine_m
from dispatchd.models import Case, CaseStatus, Department, Worker

S = CaseStatus
FINAL = frozenset({S.VOIDED, S.MERGED, S.EVALUATED})
IN_HANDS = frozenset({S.DISPATCHED, S.HANDLING})
VOID_REASONS = ("经核实不属于受理范围", "重复无效上报", "现场核实无此问题", "恶意骚扰来电")
FEEDBACK_NOTES = ("已清理完毕，现场恢复整洁", "已更换新井盖并设置警示", "已劝离摊贩，现场恢复秩序",
                  "已修复完成，附处置前后照片", "已联系产权单位处理完毕", "已拆除并清运")
SCORES = {5: 55, 4: 28, 3: 11, 2: 4, 1: 2}
SIM = Actor(name="sim", role="commander")


@dataclass(frozen=True)
class Move:
    """One step to take on a case."""

    action: str
    actor: Actor
    params: dict[str, Any] = field(default_factory=dict)


class Staff:
    """Departments and workers as the duty commander sees them."""

    def __init__(self) -> None:
        self.departments = {d.id: d for d in Department.objects.all()}
        self.units: dict[int, list[int]] = {}
        for dept in self.departments.values():
            if dept.parent_id:
                self.units.setdefault(dept.parent_id, []).append(dept.id)
        self.top = sorted(d.id for d in self.departments.values() if d.parent_id is None)
        self.workers = list(Worker.objects.filter(state__in=("on_duty", "busy")).order_by("id"))

    def subtree(self, dept_id: int) -> set[int]:
        """The department and every unit below it."""
        found, todo = set(), [dept_id]
        while todo:
            current = todo.pop()
            found.add(current)
            todo.extend(self.units.get(current, []))
        return found

    def nearest_worker(self, dept_id: int, lat: float, lon: float) -> Worker | None:
        """The nearest on-duty worker of a department (or its units)."""
        depts = self.subtree(dept_id)
        staff = [w for w in self.workers if w.department_id in depts and w.lat is not None]
        return min(staff, key=lambda w: haversine_m(lat, lon, w.lat, w.lon), default=None)


def worker_actor(worker_id: int, code: str) -> Actor:
    """The actor of a field worker."""
    return Actor(name=code, role="worker", worker_id=worker_id)


def _field_actor(case: Case) -> Actor:
    if case.worker_id is not None:
        return worker_actor(case.worker_id, case.worker.code)
    return SIM


def is_sluggish(case: Case) -> bool:
    """About one case in twelve drags on in the field (a slow unit, a hard problem): these end up overdue."""
    return case.status in IN_HANDS and (case.id * 7919) % 12 == 0


def next_move(rng: random.Random, case: Case, staff: Staff) -> Move | None:
    """The next step for `case`, or None to leave it for now."""
    if case.status in FINAL or (is_sluggish(case) and rng.random() < 0.9):
        return None
    if case.sla_state in ("overdue", "escalated") and case.supervise_count < 2 and rng.random() < 0.3:
        return Move("supervise", SIM, {"note": "案件已超期，请责任单位加快处置并反馈"})
    chooser = _BY_STATUS.get(case.status)
    return chooser(rng, case, staff) if chooser else None


def _reported(rng: random.Random, case: Case, staff: Staff) -> Move | None:
    if case.duplicate_candidates and rng.random() < 0.85:
        return Move("merge", SIM, {"into": case.duplicate_candidates[0]["id"], "note": "重复上报，并入原案卷"})
    if rng.random() < 0.05:
        return Move("void", SIM, {"note": rng.choice(VOID_REASONS)})
    return Move("accept", SIM, {"note": "信息完整，予以受理"})


def _accepted(rng: random.Random, case: Case, staff: Staff) -> Move | None:
    if rng.random() < 0.02:
        return Move("void", SIM, {"note": rng.choice(VOID_REASONS)})
    urgent = case.severity == "major" or rng.random() < 0.05
    return Move("register", SIM, {"urgent": urgent, "note": "符合立案标准"})


def _registered(rng: random.Random, case: Case, staff: Staff) -> Move | None:
    dept_id = case.department_id or (case.category.default_department_id if case.category_id else None)
    if dept_id is None:
        dept_id = rng.choice(staff.top)
    params: dict[str, Any] = {"department": dept_id, "note": "请按时限处置"}
    if rng.random() < 0.45 and (worker := staff.nearest_worker(dept_id, case.lat, case.lon)):
        params["worker"] = worker.id
    if rng.random() < 0.1:
        main_top = staff.departments[dept_id].parent_id or dept_id
        params["assist_departments"] = [rng.choice([d for d in staff.top if d != main_top])]
        params["note"] = "多部门协同处置，主办单位牵头"
    return Move("dispatch", SIM, params)


def _pending_extension(rng: random.Random, case: Case) -> Move:
    if rng.random() < 0.8:
        return Move("extend_approve", SIM, {"note": "同意延期"})
    return Move("extend_reject", SIM, {"note": "时限内可完成，不予延期"})


def _dispatched(rng: random.Random, case: Case, staff: Staff) -> Move | None:
    if case.extension_pending_hours is not None:
        return _pending_extension(rng, case)
    roll = rng.random()
    units = staff.units.get(case.department_id, [])
    if roll < 0.08:
        if units and case.dispatch_level < 3:
            return Move("redispatch", SIM, {"department": rng.choice(units), "note": "转派下级单位处置"})
    elif roll < 0.13:
        worker = staff.nearest_worker(case.department_id, case.lat, case.lon) if case.department_id else None
        if worker is not None and case.worker_id is None:
            return Move("redispatch", SIM, {"worker": worker.id, "note": "指派就近人员处置"})
    elif roll < 0.15:
        return Move("return", _field_actor(case), {"note": "不属于本单位职责，申请回退重新派遣"})
    elif roll < 0.17:
        return Move("suspend", SIM, {"note": "涉及产权争议，需协调，暂时挂账"})
    elif roll < 0.21:
        params = {"hours": rng.choice([8, 24, 48]), "note": "需采购配件，申请延期"}
        return Move("extend_request", _field_actor(case), params)
    return Move("handle", _field_actor(case), {"note": "已到达现场，开始处置"})


def _handling(rng: random.Random, case: Case, staff: Staff) -> Move | None:
    if case.extension_pending_hours is not None:
        return _pending_extension(rng, case)
    roll = rng.random()
    if roll < 0.04:
        params = {"hours": rng.choice([8, 24]), "note": "工程量较大，申请延期"}
        return Move("extend_request", _field_actor(case), params)
    if roll < 0.055:
        return Move("suspend", SIM, {"note": "需上级部门协调，暂时挂账"})
    return Move("feedback", _field_actor(case), {"note": rng.choice(FEEDBACK_NOTES)})


def _feedback(rng: random.Random, case: Case, staff: Staff) -> Move | None:
    roll = rng.random()
    if roll < 0.1:
        return Move("verify", SIM, {"passed": False, "note": "现场核查未处置到位，返工"})
    if roll < 0.2:
        return Move("close", SIM, {"note": "处置结果清楚，直接结案"})
    return Move("verify", SIM, {"passed": True, "note": "核查通过"})


def _verified(rng: random.Random, case: Case, staff: Staff) -> Move | None:
    return Move("close", SIM, {"note": "结案"})


def _closed(rng: random.Random, case: Case, staff: Staff) -> Move | None:
    score = rng.choices(list(SCORES), weights=list(SCORES.values()))[0]
    return Move("evaluate", SIM, {"score": score, "note": "回访满意" if score >= 4 else "回访基本满意"})


def _suspended(rng: random.Random, case: Case, staff: Staff) -> Move | None:
    return Move("resume", SIM, {"note": "协调完毕，恢复处置"})


_BY_STATUS: dict[str, Callable[[random.Random, Case, Staff], Move | None]] = {
    S.REPORTED: _reported, S.ACCEPTED: _accepted, S.REGISTERED: _registered, S.DISPATCHED: _dispatched,
    S.HANDLING: _handling, S.FEEDBACK: _feedback, S.VERIFIED: _verified, S.CLOSED: _closed,
    S.SUSPENDED: _suspended,
}
