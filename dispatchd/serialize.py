"""Plain-dict views of domain objects: one shape for the API and for hub events."""

from __future__ import annotations

from typing import Any

from dispatchd.models import Case, CaseEvent


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def case_dict(case: Case) -> dict[str, Any]:
    """The public view of a case."""
    return {
        "id": case.id,
        "number": case.number,
        "title": case.title,
        "description": case.description,
        "source": case.source,
        "category_id": case.category_id,
        "category": case.category.name if case.category_id else None,
        "severity": case.severity,
        "urgent": case.urgent,
        "lat": case.lat,
        "lon": case.lon,
        "address": case.address,
        "grid_id": case.grid_id,
        "community_id": case.community_id,
        "street_id": case.street_id,
        "outside_area": case.outside_area,
        "status": case.status,
        "department_id": case.department_id,
        "assist_department_ids": sorted(d.id for d in case.assist_departments.all()) if case.pk else [],
        "worker_id": case.worker_id,
        "dispatch_level": case.dispatch_level,
        "merged_into_id": case.merged_into_id,
        "duplicate_candidates": case.duplicate_candidates,
        "rework_count": case.rework_count,
        "supervise_count": case.supervise_count,
        "extension_pending_hours": case.extension_pending_hours,
        "evaluation": case.evaluation,
        "stage": case.stage,
        "sla_state": case.sla_state,
        "warn_at": _iso(case.warn_at),
        "deadline": _iso(case.deadline),
        "escalate_at": _iso(case.escalate_at),
        "created_at": _iso(case.created_at),
        "updated_at": _iso(case.updated_at),
        "closed_at": _iso(case.closed_at),
        "version": case.version,
    }


def event_dict(event: CaseEvent) -> dict[str, Any]:
    """The public view of a timeline entry."""
    return {
        "id": event.id,
        "at": _iso(event.at),
        "actor": event.actor,
        "action": event.action,
        "from_status": event.from_status,
        "to_status": event.to_status,
        "note": event.note,
        "data": event.data,
    }
