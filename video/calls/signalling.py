"""The hub events of calls: invitations to a person, and the session snapshot on ``call.<id>``.

- ``user.<worker_id>`` / ``department.<id>``: ``call.invite`` (ring), ``call.invite_closed`` (stop ringing:
  answered elsewhere, cancelled, missed, or the call ended);
- ``call.<session_id>``: ``call.state``, the whole snapshot (:meth:`CallSession.describe`) after every change.
The op set is documented in docs/protocol.md ("Calls and dispatch sessions").
"""

from __future__ import annotations

from typing import Any

from video.calls.model import CallSession, Participant


def invite_topic(seat: Participant) -> str:
    """Where an invitee hears its invitations."""
    if seat.worker_id is not None:
        return f"user.{seat.worker_id}"
    return f"department.{seat.department_id}"


def invite(session: CallSession, seat: Participant, caller: str, ring_timeout: float) -> dict[str, Any]:
    """``call.invite``: someone calls you; answer with POST /api/calls/{call}/accept (or decline)."""
    return {"type": "call.invite", "data": {
        "call": session.id, "kind": session.kind.value, "participant": seat.id, "from": caller,
        "case_id": session.case_id, "topic": session.topic, "ring_s": ring_timeout,
    }}


def invite_closed(session: CallSession, seat: Participant, reason: str) -> dict[str, Any]:
    """``call.invite_closed``: stop ringing (reason: answered, missed, hangup, ended, …)."""
    return {"type": "call.invite_closed", "data": {"call": session.id, "participant": seat.id, "reason": reason}}


def state(session: CallSession) -> dict[str, Any]:
    """``call.state``: the session snapshot."""
    return {"type": "call.state", "data": session.describe()}
