"""SLA timer checks: fire warning, overdue and escalation exactly once each, across restarts.

Each firing is a conditional UPDATE (the state it leaves must still be there, the moment still due)
committed together with its timeline entry, so a crash or a second daemon can never fire it twice.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from dispatchd.actors import SYSTEM
from dispatchd.events import publish_case
from dispatchd.models import Case, CaseEvent
from dispatchd.models.cases import SlaState

# (state it leaves, moment field, state it enters, timeline action)
STEPS = (
    (SlaState.OK, "warn_at", SlaState.WARNING, "sla_warning"),
    (SlaState.WARNING, "deadline", SlaState.OVERDUE, "sla_overdue"),
    (SlaState.OVERDUE, "escalate_at", SlaState.ESCALATED, "sla_escalated"),
)


def _fire(case_id: int, leaves: str, moment: str, enters: str, name: str, now: datetime) -> bool:
    with transaction.atomic():
        extra = {"supervise_count": F("supervise_count") + 1} if enters == SlaState.ESCALATED else {}
        changed = Case.objects.filter(
            pk=case_id, sla_state=leaves, **{f"{moment}__lte": now}
        ).update(sla_state=enters, version=F("version") + 1, updated_at=now, **extra)
        if not changed:
            return False
        case = Case.objects.select_related("category").get(pk=case_id)
        CaseEvent.objects.create(
            case=case, actor=SYSTEM.label, action=name, from_status=case.status, to_status=case.status,
            data={"stage": case.stage, "at": getattr(case, moment).isoformat()},
            note="超时自动督办" if enters == SlaState.ESCALATED else "",
        )
        publish_case(case, name)
    return True


def check_timers(now: datetime | None = None) -> int:
    """Fire every due SLA step; return how many fired."""
    now = now or timezone.now()
    fired = 0
    for leaves, moment, enters, name in STEPS:
        due = Case.objects.filter(sla_state=leaves, **{f"{moment}__lte": now}).values_list("pk", flat=True)
        for case_id in list(due[:1000]):
            fired += _fire(case_id, leaves, moment, enters, name, now)
    return fired
