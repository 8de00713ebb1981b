"""The call service: sessions and their participants, signalling, media routing and clean-up.

Everything runs in one event loop. Each state change publishes the session snapshot on ``call.<id>``
(see :mod:`video.calls.signalling`); invitations go to ``user.<worker_id>`` / ``department.<id>``.
A participant leaves when it hangs up, when its connection never comes up (``connect_timeout``), or when it
failed and was not replaced by a reconnect within ``reconnect_grace``; its connection, tasks, slots and
recordings are closed then. A call ends when either side leaves; a session when no person is present.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from video.calls import signalling
from video.calls.cameras import CameraFeed
from video.calls.config import CallSettings
from video.calls.model import (
    ENGAGED,
    PRESENT,
    BadOffer,
    Busy,
    CallEnded,
    Caller,
    CallError,
    CallForbidden,
    CallNotFound,
    CallSession,
    Full,
    Kind,
    Participant,
    Seat,
    SessionState,
)
from video.calls.peer import PeerMedia, answer, close_quietly, ice_configuration
from video.calls.recording import SessionRecording
from video.gb28181.relay import Relay
from video.gb28181.tasks import BackgroundTasks
from video.webrtc import OfferError

log = logging.getLogger(__name__)
Publish = Callable[[str, dict[str, Any]], Awaitable[Any]]
Recorded = Callable[[CallSession, list[dict[str, object]]], Awaitable[None]]
RECENT = 100  # ended sessions kept for GET


@dataclass(frozen=True)
class Invitee:
    """Someone to invite: a worker or a department."""

    worker_id: int | None = None
    department_id: int | None = None
    label: str = ""

    @property
    def identity(self) -> str:
        """The seat identity."""
        return f"worker:{self.worker_id}" if self.worker_id is not None else f"department:{self.department_id}"


def _new_id() -> str:
    return secrets.token_urlsafe(12)


def _may_grow(session: CallSession) -> None:
    """Refuse a third party while a 1:1 call rings; once answered, the call becomes a session when one joins.

    A session ends when no person is left, not when one side leaves.
    """
    if session.kind is Kind.CALL and session.state is SessionState.RINGING:
        raise CallError("the call is still ringing; add others once it is answered")


class CallManager:
    """Calls and sessions by id, with their media."""

    def __init__(self, settings: CallSettings, publish: Publish, *, on_recorded: Recorded | None = None,
                 relay: Callable[[], Relay | None] = lambda: None) -> None:
        self.settings = settings
        self.publish = publish
        self.on_recorded = on_recorded
        self.relay = relay
        self.sessions: dict[str, CallSession] = {}
        self.recent: OrderedDict[str, CallSession] = OrderedDict()
        self.tasks = BackgroundTasks()
        self._config = ice_configuration(settings.ice_servers)

    # ----- lookup -----

    def get(self, session_id: str, caller: Caller | None = None) -> CallSession:
        """A live or recently ended session the caller may see."""
        session = self.sessions.get(session_id) or self.recent.get(session_id)
        if session is None:
            raise CallNotFound(f"no call {session_id[:40]!r}")
        if caller is not None and not caller.commands and session.seat_of(caller.identity) is None:
            raise CallNotFound(f"no call {session_id[:40]!r}")
        return session

    def _live(self, session_id: str, caller: Caller) -> CallSession:
        session = self.get(session_id, caller)
        if session.state is SessionState.ENDED:
            raise CallEnded(f"call {session.id} has ended ({session.reason})")
        return session

    def _commanded(self, session_id: str, caller: Caller, refusal: str) -> CallSession:
        """A live session, for a commander only (CallForbidden with `refusal` for anyone else)."""
        session = self._live(session_id, caller)
        if not caller.commands:
            raise CallForbidden(refusal)
        return session

    def busy(self, identity: str) -> bool:
        """Whether someone is ringing or in a call already."""
        return any((p := s.seat_of(identity)) is not None and p.seat in ENGAGED for s in self.sessions.values())

    # ----- create, invite, join -----

    async def create(self, caller: Caller, kind: Kind, invitees: list[Invitee], offer_sdp: str | None,
                     case_id: int | None = None, record: bool = False) -> tuple[CallSession, dict[str, object]]:
        """Start a call (one invitee) or a session; the caller joins at once when it sends its offer."""
        if not caller.commands:
            raise CallForbidden("only commanders start calls and sessions")
        if len(self.sessions) >= self.settings.max_sessions:
            raise Full(f"at most {self.settings.max_sessions} calls at once")
        if kind is Kind.CALL and len(invitees) != 1:
            raise CallError("a call has exactly one callee; use a session for more")
        if len(invitees) + 1 > self.settings.max_participants:
            raise Full(f"at most {self.settings.max_participants} participants")
        if kind is Kind.CALL and offer_sdp is None:
            raise BadOffer("a call starts with the caller's offer")
        if kind is Kind.CALL and self.busy(invitees[0].identity):
            raise Busy(f"{invitees[0].label or invitees[0].identity} is in another call")
        session = CallSession(_new_id(), kind, caller.identity, case_id,
                              SessionState.RINGING if kind is Kind.CALL else SessionState.ACTIVE)
        if record:
            session.recording = SessionRecording(self.settings.recordings / session.id)
        self.sessions[session.id] = session
        joined: dict[str, object] = {}
        if offer_sdp is not None:  # else the creator joins later, like anyone
            me = self._seat(session, caller.identity, "commander", caller.label, Seat.CONNECTING)
            try:
                joined = await self._connect(session, me, offer_sdp)
            except BaseException:
                await self.end(session, "failed")
                raise
        self._invite(session, invitees)
        self._changed(session)
        return session, joined

    async def invite(self, session_id: str, caller: Caller, invitees: list[Invitee]) -> CallSession:
        """Invite more people into a session (late join); an answered 1:1 call becomes a session."""
        session = self._commanded(session_id, caller, "only commanders invite")
        _may_grow(session)
        if len(session.participants) + len(invitees) > self.settings.max_participants:
            raise Full(f"at most {self.settings.max_participants} participants")
        session.kind = Kind.SESSION
        self._invite(session, invitees)
        self._changed(session)
        return session

    def _invite(self, session: CallSession, invitees: list[Invitee]) -> None:
        caller_label = next(iter(session.participants.values())).label if session.participants else ""
        for invitee in invitees:
            existing = session.seat_of(invitee.identity)
            if existing is not None and existing.seat in ENGAGED:
                continue
            busy = invitee.worker_id is not None and self.busy(invitee.identity)
            kind = "worker" if invitee.worker_id is not None else "department"
            seat = self._seat(session, invitee.identity, kind, invitee.label or invitee.identity,
                              Seat.BUSY if busy else Seat.INVITED, existing)
            seat.worker_id, seat.department_id = invitee.worker_id, invitee.department_id
            if busy:
                continue
            seat.timer = asyncio.get_running_loop().call_later(self.settings.ring_timeout, self._ring_over,
                                                                session.id, seat.id)
            self._send(signalling.invite_topic(seat), signalling.invite(session, seat, caller_label,
                                                                        self.settings.ring_timeout))

    def _seat(self, session: CallSession, identity: str, kind: str, label: str, seat: Seat,
              existing: Participant | None = None) -> Participant:
        participant = existing or Participant(_new_id(), identity, kind, label, seat)
        participant.seat, participant.since = seat, time.monotonic()
        session.participants[participant.id] = participant
        return participant

    async def join(self, session_id: str, caller: Caller, offer_sdp: str, seat_id: str | None = None,
                   ) -> dict[str, object]:
        """Join (or accept an invitation to) a session with an offer; returns the answer and the snapshot."""
        session = self._live(session_id, caller)
        seat = self._seat_for(session, caller, seat_id)
        if seat is None:
            if not caller.commands:
                raise CallForbidden("you are not invited to this call")
            if session.kind is Kind.CALL and len(session.humans_present()) >= 2:
                raise Full("the call already has two people")
            if len(session.participants) >= self.settings.max_participants:
                raise Full(f"at most {self.settings.max_participants} participants")
            seat = self._seat(session, caller.identity, "commander", caller.label, Seat.CONNECTING)
        elif seat.seat in PRESENT:
            raise CallError("already in this call; use reconnect to replace the connection")
        seat.cancel_timer()
        if seat.seat is Seat.INVITED:  # stop the ringing on the invitee's other devices
            self._send(signalling.invite_topic(seat), signalling.invite_closed(session, seat, "answered"))
        seat.seat = Seat.CONNECTING
        if seat.kind == "department":
            seat.label = f"{seat.label} ({caller.label})"
        joined = await self._connect(session, seat, offer_sdp)
        if session.kind is Kind.CALL:
            session.state = SessionState.ACTIVE
        self._changed(session)
        return joined

    def _seat_for(self, session: CallSession, caller: Caller, seat_id: str | None) -> Participant | None:
        if seat_id is not None:
            seat = session.participants.get(seat_id)
            takes_department_seat = caller.commands and seat is not None and seat.kind == "department"
            if seat is None or (seat.identity != caller.identity and not takes_department_seat):
                raise CallForbidden("not your seat")
            return seat
        return session.seat_of(caller.identity)

    async def _connect(self, session: CallSession, seat: Participant, offer_sdp: str) -> dict[str, object]:
        try:
            media, answer_sdp = await answer(seat.id, offer_sdp, self._config, self.settings.max_slots,
                                             lambda state: self._connection_state(session.id, seat.id, media, state))
        except OfferError as exc:
            if seat.media is None and seat.seat is Seat.CONNECTING:
                seat.seat = Seat.LEFT
            raise BadOffer(str(exc)) from exc
        if session.state is SessionState.ENDED or session.participants.get(seat.id) is not seat:
            await close_quietly(media)
            raise CallEnded(f"call {session.id} ended meanwhile")
        old, seat.media = seat.media, media
        seat.slot_of.clear()
        seat.cancel_timer()
        seat.timer = asyncio.get_running_loop().call_later(self.settings.connect_timeout, self._connect_over,
                                                           session.id, seat.id, media)
        self._apply_mute(seat)
        self._route(session)
        if old is not None:
            self.tasks.spawn(close_quietly(old))
        return {"sdp": answer_sdp, "type": "answer", "participant": seat.id,
                "slots": [slot.describe() for slot in media.slots], "ice_servers": self.settings.ice_servers}

    async def reconnect(self, session_id: str, caller: Caller, offer_sdp: str) -> dict[str, object]:
        """Replace the caller's connection (network change: aiortc has no ICE restart) without leaving."""
        session = self._live(session_id, caller)
        seat = session.seat_of(caller.identity)
        if seat is None or seat.seat not in PRESENT:
            raise CallForbidden("you are not in this call")
        joined = await self._connect(session, seat, offer_sdp)
        seat.seat = Seat.CONNECTING
        self._changed(session)
        return joined

    async def add_camera(self, session_id: str, caller: Caller, camera_id: int, device_id: str, channel_id: str,
                         label: str) -> Participant:
        """Add a relay camera as a participant (video only); raises the relay's NotPlayable."""
        session = self._commanded(session_id, caller, "only commanders add cameras")
        relay = self.relay()
        if relay is None:
            raise CallError("no camera relay runs in this process")
        identity = f"camera:{camera_id}"
        existing = session.seat_of(identity)
        if existing is not None and existing.seat in PRESENT:
            return existing
        _may_grow(session)
        if len(session.participants) >= self.settings.max_participants:
            raise Full(f"at most {self.settings.max_participants} participants")
        seat = self._seat(session, identity, "camera", label, Seat.CONNECTING, existing)
        try:
            feed = await CameraFeed.open(seat.id, relay, device_id, channel_id)
        except BaseException:  # refused (not playable…): the session is as it was
            if existing is None:
                session.participants.pop(seat.id, None)
            else:
                seat.seat = Seat.LEFT
            raise
        if session.state is SessionState.ENDED:
            await feed.close()
            raise CallEnded(f"call {session.id} ended meanwhile")
        seat.camera, seat.seat = feed, Seat.CONNECTED
        session.kind = Kind.SESSION
        feed.when_ended(lambda: self._camera_ended(session, seat, feed))
        self._route(session)
        self._changed(session)
        return seat

    def _camera_ended(self, session: CallSession, seat: Participant, feed: CameraFeed) -> None:
        if seat.camera is feed and session.state is not SessionState.ENDED:
            self.tasks.spawn(self._leave(session, seat, "camera_ended"))

    # ----- answers, mute, leave -----

    async def decline(self, session_id: str, caller: Caller, reason: str = "declined",
                      seat_id: str | None = None) -> CallSession:
        """Refuse an invitation (reason "declined" or "busy")."""
        session = self._live(session_id, caller)
        seat = self._seat_for(session, caller, seat_id)
        if seat is None or seat.seat is not Seat.INVITED:
            raise CallError("no invitation to decline")
        seat.cancel_timer()
        seat.seat = Seat.BUSY if reason == "busy" else Seat.DECLINED
        await self._after_absence(session, seat.seat.value)
        return session

    async def mute(self, session_id: str, caller: Caller, audio: bool | None, video: bool | None) -> CallSession:
        """Mute or unmute one's own audio/video: forwarding stops, and the others see it in the snapshot."""
        session = self._live(session_id, caller)
        seat = session.seat_of(caller.identity)
        if seat is None or seat.seat not in PRESENT:
            raise CallForbidden("you are not in this call")
        for kind, value in (("audio", audio), ("video", video)):
            if value is not None:
                seat.muted[kind] = value
        self._apply_mute(seat)
        self._changed(session)
        return session

    def _apply_mute(self, seat: Participant) -> None:
        for kind, source in seat.sources().items():
            source.pause(seat.muted.get(kind, False))

    async def hangup(self, session_id: str, caller: Caller, everyone: bool = False) -> CallSession:
        """Leave; a commander may end the session for everyone."""
        session = self._live(session_id, caller)
        if everyone:
            if not caller.commands:
                raise CallForbidden("only commanders end a session for everyone")
            await self.end(session, "ended")
            return session
        seat = session.seat_of(caller.identity)
        if seat is None:
            raise CallForbidden("you are not in this call")
        await self._leave(session, seat, "hangup")
        return session

    async def remove(self, session_id: str, caller: Caller, participant_id: str) -> CallSession:
        """A commander takes a participant (a camera, say) out of a session."""
        session = self._commanded(session_id, caller, "only commanders remove participants")
        seat = session.participants.get(participant_id)
        if seat is None:
            raise CallNotFound(f"no participant {participant_id[:40]!r}")
        await self._leave(session, seat, "removed")
        return session

    async def record(self, session_id: str, caller: Caller, on: bool) -> CallSession:
        """Start or stop recording every track of the session."""
        session = self._commanded(session_id, caller, "only commanders record")
        if on and session.recording is None:
            session.recording = SessionRecording(self.settings.recordings / session.id)
            self._route(session)
        elif not on and session.recording is not None:
            await self._finish_recording(session)
        self._changed(session)
        return session

    async def _leave(self, session: CallSession, seat: Participant, reason: str) -> None:
        seat.cancel_timer()
        if seat.seat is Seat.INVITED:
            self._send(signalling.invite_topic(seat), signalling.invite_closed(session, seat, reason))
        if seat.seat in ENGAGED:
            seat.seat = Seat.LEFT
        await self._drop_media(session, seat)
        if seat.human:
            await self._after_absence(session, reason)
        else:
            self._changed(session)

    async def _drop_media(self, session: CallSession, seat: Participant) -> None:
        media, camera = seat.media, seat.camera
        seat.media, seat.camera = None, None
        seat.slot_of.clear()
        self._route(session)
        await close_quietly(media)
        if camera is not None:
            with contextlib.suppress(Exception):
                await camera.close()

    async def _after_absence(self, session: CallSession, reason: str) -> None:
        """Someone left, declined or missed: end the call/session if nobody it needs is left."""
        ringing = any(p.seat is Seat.INVITED for p in session.participants.values())
        present = session.humans_present()
        call_over = session.kind is Kind.CALL and len(present) < 2 and not (ringing and present)
        if call_over or not present:
            await self.end(session, reason)
        else:
            self._changed(session)

    async def end(self, session: CallSession, reason: str) -> None:
        """End a session for everyone: close every connection, camera and recording."""
        if session.state is SessionState.ENDED:
            return
        session.state, session.reason, session.ended_at = SessionState.ENDED, reason, time.time()
        for seat in session.participants.values():
            seat.cancel_timer()
            if seat.seat is Seat.INVITED:
                self._send(signalling.invite_topic(seat), signalling.invite_closed(session, seat, reason))
                seat.seat = Seat.MISSED if reason == "missed" else Seat.LEFT
            elif seat.seat in PRESENT:
                seat.seat = Seat.LEFT
        for seat in session.participants.values():
            await self._drop_media(session, seat)
        await self._finish_recording(session)
        self.sessions.pop(session.id, None)
        self.recent[session.id] = session
        while len(self.recent) > RECENT:
            self.recent.popitem(last=False)
        self._changed(session)

    async def _finish_recording(self, session: CallSession) -> None:
        recording, session.recording = session.recording, None
        if recording is None:
            return
        files = [f.describe(self.settings.recordings.parent) for f in recording.close()]
        session.recorded += files
        if files and self.on_recorded is not None:
            self.tasks.spawn(self.on_recorded(session, files))

    # ----- timers and connection events -----

    def _ring_over(self, session_id: str, seat_id: str) -> None:
        session = self.sessions.get(session_id)
        seat = session.participants.get(seat_id) if session else None
        if session is None or seat is None or seat.seat is not Seat.INVITED:
            return
        seat.timer = None
        seat.seat = Seat.MISSED
        self._send(signalling.invite_topic(seat), signalling.invite_closed(session, seat, "missed"))
        self.tasks.spawn(self._after_absence(session, "missed"))

    def _connect_over(self, session_id: str, seat_id: str, media: PeerMedia) -> None:
        session = self.sessions.get(session_id)
        seat = session.participants.get(seat_id) if session else None
        if session is not None and seat is not None and seat.media is media and seat.seat is not Seat.CONNECTED:
            seat.timer = None
            self.tasks.spawn(self._leave(session, seat, "connection_failed"))

    def _connection_state(self, session_id: str, seat_id: str, media: PeerMedia, state: str) -> None:
        session = self.sessions.get(session_id)
        seat = session.participants.get(seat_id) if session else None
        if session is None or seat is None or seat.media is not media:
            return  # an old connection replaced by a reconnect
        if state == "connected" and seat.seat is not Seat.CONNECTED:
            seat.cancel_timer()
            seat.seat = Seat.CONNECTED
            for source in seat.sources().values():  # late slots of the others ask for keyframes now
                source.request_keyframe()
            self._changed(session)
        elif state in ("failed", "closed") and seat.seat in PRESENT:
            seat.seat = Seat.RECONNECTING
            seat.cancel_timer()
            seat.timer = asyncio.get_running_loop().call_later(self.settings.reconnect_grace, self._reconnect_over,
                                                               session.id, seat.id, media)
            self._changed(session)

    def _reconnect_over(self, session_id: str, seat_id: str, media: PeerMedia) -> None:
        session = self.sessions.get(session_id)
        seat = session.participants.get(seat_id) if session else None
        if session is not None and seat is not None and seat.media is media and seat.seat is Seat.RECONNECTING:
            seat.timer = None
            self.tasks.spawn(self._leave(session, seat, "disconnected"))

    # ----- media routing -----

    def _route(self, session: CallSession) -> None:
        """Give every receiver a slot per other sending participant and attach the slots to the sources."""
        senders = {p.id: sources for p in session.participants.values() if (sources := p.sources())}
        for receiver in session.participants.values():
            media = receiver.media
            if media is None:
                continue
            for other in [o for o in receiver.slot_of if o not in senders or o == receiver.id]:
                del receiver.slot_of[other]
            taken = set(receiver.slot_of.values())
            for other in senders:
                if other == receiver.id or other in receiver.slot_of:
                    continue
                free = next((i for i in range(len(media.slots)) if i not in taken), None)
                if free is None:
                    break
                receiver.slot_of[other] = free
                taken.add(free)
            shown = {index: other for other, index in receiver.slot_of.items()}
            for index, slot in enumerate(media.slots):
                owner = shown.get(index)
                sources = senders.get(owner, {}) if owner else {}
                slot.source_owner = owner
                for kind, track in (("video", slot.video), ("audio", slot.audio)):
                    if track is not None:
                        track.attach(sources.get(kind))
        if session.recording is not None:
            session.recording.sync([s for sources in senders.values() for s in sources.values()])

    # ----- publishing -----

    def _changed(self, session: CallSession) -> None:
        self._send(session.topic, signalling.state(session))

    def _send(self, topic: str, event: dict[str, Any]) -> None:
        self.tasks.spawn(self._publish(topic, event))

    async def _publish(self, topic: str, event: dict[str, Any]) -> None:
        try:
            await self.publish(topic, event)
        except Exception:
            log.exception("publishing %s on %s failed", event.get("type"), topic)

    async def close(self) -> None:
        """End every session and stop every task."""
        for session in list(self.sessions.values()):
            await self.end(session, "shutdown")
        await self.tasks.cancel_all()
