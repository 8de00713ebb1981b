"""A session's recordings on its case's timeline (an append-only ``recording`` entry, announced on ``cases``)."""

from __future__ import annotations

from channels.db import database_sync_to_async
from django.db import transaction

from video.calls.model import CallSession


def write_recording(case_id: int, actor: str, call_id: str, files: list[dict[str, object]]) -> bool:
    """Append a ``recording`` entry to the case's timeline; False when the case does not exist."""
    from dispatchd.events import publish_case
    from dispatchd.models import Case, CaseEvent

    with transaction.atomic():
        case = Case.objects.filter(pk=case_id).first()
        if case is None:
            return False
        CaseEvent.objects.create(case=case, actor=actor[:64], action="recording", from_status=case.status,
                                 to_status=case.status, data={"call": call_id, "files": files})
        publish_case(case, "recording")
    return True


async def on_recorded(session: CallSession, files: list[dict[str, object]]) -> None:
    """The call service's callback: list a finished recording on the session's case, if it has one."""
    if session.case_id is not None:
        await database_sync_to_async(write_recording)(session.case_id, session.created_by, session.id, files)
