"""Video calls and dispatch sessions: SDP offer/answer over HTTP, state on the hub (docs/protocol.md, "Calls").

``POST /api/calls`` starts a 1:1 call (``kind: call``, one worker) or a session (``kind: session``), with the
caller's offer; invitees hear ``call.invite`` on ``user.<worker_id>`` (``department.<id>``) and answer with
``POST /api/calls/{id}/accept`` (their offer) or ``/decline``. Everyone follows ``call.<id>``. Where the media
runs elsewhere (a production `web` process) the request is forwarded to the `sip` process, like camera play.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Router, Schema
from ninja.responses import Status
from pydantic import Field, model_validator

from dispatchd.errors import DomainError, NotFound
from dispatchd.models import Camera, Case, Department, Worker
from video.calls import service
from video.calls.model import Caller, CallError, Kind
from video.calls.sessions import CallManager, CallSession, Invitee
from video.gb28181.relay import NotPlayable
from wall.api.base import api
from wall.api.cameras import _forward as forward_to_media
from wall.api.roles import COMMANDERS, READERS, require
from wall.api.schemas import Id

router = Router(tags=["calls"])
MAX_SDP = 64 * 1024


class CallRefused(DomainError):
    """A call operation the call service turned down (busy, ended, full, not invited, bad offer…)."""

    def __init__(self, error: CallError | NotPlayable) -> None:
        super().__init__(getattr(error, "detail", None) or getattr(error, "reason", str(error)))
        if isinstance(error, NotPlayable):
            self.status, self.code = 409, "camera_unavailable"
        else:
            self.status, self.code = error.status, error.code


class OfferIn(Schema):
    sdp: str = Field(min_length=1, max_length=MAX_SDP)
    type: Literal["offer"] = "offer"
    participant: str | None = Field(None, max_length=40, description="an invited department seat to take")


class InviteeIn(Schema):
    worker_id: Id | None = None
    department_id: Id | None = None

    @model_validator(mode="after")
    def _one(self) -> InviteeIn:
        if (self.worker_id is None) == (self.department_id is None):
            raise ValueError("give exactly one of worker_id, department_id")
        return self


class CreateIn(Schema):
    kind: Literal["call", "session"] = "call"
    invite: list[InviteeIn] = Field(default_factory=list, max_length=8)
    case_id: Id | None = None
    record: bool = False
    sdp: str | None = Field(None, min_length=1, max_length=MAX_SDP)
    type: Literal["offer"] = "offer"


class InviteIn(Schema):
    invite: list[InviteeIn] = Field(min_length=1, max_length=8)


class DeclineIn(Schema):
    reason: Literal["declined", "busy"] = "declined"
    participant: str | None = Field(None, max_length=40)


class HangupIn(Schema):
    all: bool = Field(False, description="end the session for everyone (commanders)")


class MuteIn(Schema):
    audio: bool | None = None
    video: bool | None = None


class CameraIn(Schema):
    camera_id: Id


class RecordIn(Schema):
    on: bool = True


Body = dict[str, Any]


def _caller(request: HttpRequest) -> Caller:
    actor = require(request, *READERS)
    if actor.role == "worker":
        return Caller(f"worker:{actor.worker_id}", "worker", actor.name, actor.worker_id)
    return Caller(f"{actor.role}:{actor.name}", actor.role, actor.name)


async def _invitees(items: list[InviteeIn]) -> list[Invitee]:
    """The invitees with their names (one query per kind); 404 for the first one that does not exist."""
    worker_ids = [item.worker_id for item in items if item.worker_id is not None]
    department_ids = [item.department_id for item in items if item.department_id is not None]
    workers = await Worker.objects.only("name").ain_bulk(worker_ids) if worker_ids else {}
    departments = await Department.objects.only("name").ain_bulk(department_ids) if department_ids else {}
    invitees = []
    for item in items:
        row = workers.get(item.worker_id) if item.worker_id is not None else departments.get(item.department_id)
        if row is None:
            raise NotFound(f"no worker {item.worker_id}" if item.worker_id else f"no department {item.department_id}")
        invitees.append(Invitee(item.worker_id, item.department_id, row.name))
    return invitees


async def _run(request: HttpRequest, operation) -> Any:
    """Run `operation(manager, caller)` here, or forward the request to the process that has the media."""
    caller = _caller(request)
    if not service.runs_here():
        return await forward_to_media(request)
    try:
        return await operation(service.current(), caller)
    except (CallError, NotPlayable) as exc:
        raise CallRefused(exc) from exc


async def _change(request: HttpRequest, call_id: str, method: Callable[..., Awaitable[CallSession]], *args: Any) -> Any:
    """Run `method(manager, call_id, caller, *args)` like _run, answering with the state of the call it returns."""

    async def run(manager: CallManager, caller: Caller) -> Body:
        return (await method(manager, call_id[:40], caller, *args)).describe()

    return await _run(request, run)


def _joined(answer: Body, session) -> Body:
    return {**answer, "call": session.describe()}


@router.get("/calls/config", response=Body, summary="ICE servers, limits, and who the caller is")
async def call_config(request: HttpRequest) -> Any:
    async def run(manager, caller):
        settings = manager.settings
        return {"ice_servers": settings.ice_servers, "max_slots": settings.max_slots, "ring_s": settings.ring_timeout,
                "max_participants": settings.max_participants,
                "me": {"role": caller.role, "name": caller.label, "worker_id": caller.worker_id}}

    return await _run(request, run)


@router.post("/calls", response={201: Body}, summary="Start a call or a dispatch session (the caller's offer in)")
async def create(request: HttpRequest, body: CreateIn) -> Any:
    require(request, *COMMANDERS)
    if body.case_id is not None and not await Case.objects.filter(pk=body.case_id).aexists():
        raise NotFound(f"no case {body.case_id}")
    invitees = await _invitees(body.invite)

    async def run(manager, caller):
        session, answer = await manager.create(caller, Kind(body.kind), invitees, body.sdp, body.case_id, body.record)
        return Status(201, _joined(answer, session))

    return await _run(request, run)


@router.get("/calls", response=list[Body], summary="Calls and sessions in progress that the caller is in")
async def list_calls(request: HttpRequest) -> Any:
    async def run(manager, caller):
        return [s.describe() for s in manager.sessions.values()
                if caller.commands or s.seat_of(caller.identity) is not None]

    return await _run(request, run)


@router.get("/calls/{call_id}", response=Body, summary="One call's state")
async def detail(request: HttpRequest, call_id: str) -> Any:
    async def run(manager, caller):
        return manager.get(call_id[:40], caller).describe()

    return await _run(request, run)


@router.post("/calls/{call_id}/join", response=Body, summary="Join a call or session: offer in, answer out")
async def join(request: HttpRequest, call_id: str, body: OfferIn) -> Any:
    async def run(manager, caller):
        answer = await manager.join(call_id[:40], caller, body.sdp, body.participant)
        return _joined(answer, manager.get(call_id[:40]))

    return await _run(request, run)


@router.post("/calls/{call_id}/accept", response=Body, summary="Answer an invitation: offer in, answer out")
async def accept(request: HttpRequest, call_id: str, body: OfferIn) -> Any:
    async def run(manager, caller):
        session = manager.get(call_id[:40], caller)
        seat = session.participants.get(body.participant or "") or session.seat_of(caller.identity)
        if seat is None or seat.seat.value != "invited":
            raise CallError("no invitation to accept")
        answer = await manager.join(session.id, caller, body.sdp, body.participant)
        return _joined(answer, session)

    return await _run(request, run)


@router.post("/calls/{call_id}/decline", response=Body, summary="Decline an invitation (or say busy)")
async def decline(request: HttpRequest, call_id: str, body: DeclineIn) -> Any:
    return await _change(request, call_id, CallManager.decline, body.reason, body.participant)


@router.post("/calls/{call_id}/hangup", response=Body, summary="Leave (a commander may end it for everyone)")
async def hangup(request: HttpRequest, call_id: str, body: HangupIn) -> Any:
    return await _change(request, call_id, CallManager.hangup, body.all)


@router.post("/calls/{call_id}/mute", response=Body, summary="Mute or unmute one's own audio/video")
async def mute(request: HttpRequest, call_id: str, body: MuteIn) -> Any:
    return await _change(request, call_id, CallManager.mute, body.audio, body.video)


@router.post("/calls/{call_id}/reconnect", response=Body, summary="Replace one's connection after a network change")
async def reconnect(request: HttpRequest, call_id: str, body: OfferIn) -> Any:
    async def run(manager, caller):
        answer = await manager.reconnect(call_id[:40], caller, body.sdp)
        return _joined(answer, manager.get(call_id[:40]))

    return await _run(request, run)


@router.post("/calls/{call_id}/invite", response=Body, summary="Invite more people into a session (late join)")
async def invite(request: HttpRequest, call_id: str, body: InviteIn) -> Any:
    require(request, *COMMANDERS)
    invitees = await _invitees(body.invite)
    return await _change(request, call_id, CallManager.invite, invitees)


@router.post("/calls/{call_id}/cameras", response={201: Body}, summary="Add a relay camera to a session")
async def add_camera(request: HttpRequest, call_id: str, body: CameraIn) -> Any:
    require(request, *COMMANDERS)
    camera = await Camera.objects.filter(pk=body.camera_id).afirst()
    if camera is None:
        raise NotFound(f"no camera {body.camera_id}")

    async def run(manager, caller):
        seat = await manager.add_camera(call_id[:40], caller, camera.id, camera.device_id or camera.gb_id,
                                        camera.gb_id, camera.name)
        return Status(201, {"participant": seat.id, "call": manager.get(call_id[:40]).describe()})

    return await _run(request, run)


@router.delete("/calls/{call_id}/participants/{participant}", response=Body, summary="Take a participant out")
async def remove(request: HttpRequest, call_id: str, participant: str) -> Any:
    require(request, *COMMANDERS)
    return await _change(request, call_id, CallManager.remove, participant[:40])


@router.post("/calls/{call_id}/record", response=Body, summary="Start or stop recording every track")
async def record(request: HttpRequest, call_id: str, body: RecordIn) -> Any:
    require(request, *COMMANDERS)
    return await _change(request, call_id, CallManager.record, body.on)


api.add_router("/", router)
