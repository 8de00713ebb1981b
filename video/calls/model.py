"""Calls and sessions as data: participants, states, who may act, and the snapshot clients are shown."""

from __future__ import annotations

import asyncio
import enum
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from video.calls.forwarding import Source
from video.calls.peer import PeerMedia

if TYPE_CHECKING:
    from video.calls.cameras import CameraFeed
    from video.calls.recording import SessionRecording


class CallError(Exception):
    """A refused call operation, with the HTTP status and error code the API gives it."""

    status = 409
    code = "conflict"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class CallNotFound(CallError):
    status, code = 404, "not_found"


class CallForbidden(CallError):
    status, code = 403, "forbidden"


class Busy(CallError):
    status, code = 409, "busy"


class CallEnded(CallError):
    status, code = 409, "call_ended"


class Full(CallError):
    status, code = 409, "full"


class BadOffer(CallError):
    status, code = 400, "bad_offer"


class Kind(enum.StrEnum):
    """A 1:1 call (ends when either side hangs up) or a multi-party session (ends when nobody is left)."""

    CALL = "call"
    SESSION = "session"


class SessionState(enum.StrEnum):
    """ringing (a call whose callee has not answered) → active → ended."""

    RINGING = "ringing"
    ACTIVE = "active"
    ENDED = "ended"


class Seat(enum.StrEnum):
    """Where a participant is: invited → connecting → connected ⇄ reconnecting → left (or never came)."""

    INVITED = "invited"
    BUSY = "busy"
    DECLINED = "declined"
    MISSED = "missed"
    CONNECTING = "connecting"
    CONNECTED = "connected"
    RECONNECTING = "reconnecting"
    LEFT = "left"


PRESENT = frozenset({Seat.CONNECTING, Seat.CONNECTED, Seat.RECONNECTING})
ENGAGED = PRESENT | {Seat.INVITED}  # a worker in one of these is busy for other calls


@dataclass(frozen=True)
class Caller:
    """Who calls the API, as the call service sees it."""

    identity: str  # "worker:12", "commander:alice", …
    role: str  # commander, admin, worker, …
    label: str
    worker_id: int | None = None

    @property
    def commands(self) -> bool:
        """Whether the caller may run sessions (commander or admin)."""
        return self.role in ("commander", "admin")


@dataclass
class Participant:
    """One seat in a session: a person (commander, worker, department) or a camera."""

    id: str
    identity: str
    kind: str  # commander, worker, department, camera
    label: str
    seat: Seat
    worker_id: int | None = None
    department_id: int | None = None
    muted: dict[str, bool] = field(default_factory=lambda: {"audio": False, "video": False})
    media: PeerMedia | None = None
    camera: CameraFeed | None = None
    slot_of: dict[str, int] = field(default_factory=dict)  # other participant id → slot index
    timer: asyncio.TimerHandle | None = None
    since: float = field(default_factory=time.monotonic)

    @property
    def human(self) -> bool:
        """Not a camera."""
        return self.kind != "camera"

    def sources(self) -> dict[str, Source]:
        """What this participant sends, by kind."""
        if self.camera is not None:
            return {"video": self.camera.source}
        return self.media.sources if self.media is not None else {}

    def cancel_timer(self) -> None:
        """Stop a pending ring/reconnect/connect timer."""
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None

    def describe(self) -> dict[str, object]:
        """The participant in the session snapshot."""
        sources = {kind: {"codec": s.codec, "frames": s.stats.frames, "keyframe_requests": s.stats.keyframe_requests}
                   for kind, s in self.sources().items()}
        slots = [slot.describe() for slot in self.media.slots] if self.media is not None else []
        return {"id": self.id, "kind": self.kind, "label": self.label, "state": self.seat.value,
                "worker_id": self.worker_id, "department_id": self.department_id, "muted": dict(self.muted),
                "sources": sources, "slots": slots}


@dataclass
class CallSession:
    """A call or a session and its participants."""

    id: str
    kind: Kind
    created_by: str
    case_id: int | None = None
    state: SessionState = SessionState.ACTIVE
    reason: str = ""
    participants: dict[str, Participant] = field(default_factory=dict)
    recording: SessionRecording | None = None
    recorded: list[dict[str, object]] = field(default_factory=list)
    created_at: float = field(default_factory=time.time)
    ended_at: float | None = None

    @property
    def topic(self) -> str:
        """The hub topic of this session's state events."""
        return f"call.{self.id}"

    def seat_of(self, identity: str) -> Participant | None:
        """The participant with this identity, if any."""
        return next((p for p in self.participants.values() if p.identity == identity), None)

    def humans_present(self) -> list[Participant]:
        """People connected, connecting or reconnecting."""
        return [p for p in self.participants.values() if p.human and p.seat in PRESENT]

    def transcoded(self) -> list[dict[str, str]]:
        """Every (sender → receiver) pair that is transcoded, and how."""
        pairs = []
        for receiver in self.participants.values():
            for slot in receiver.media.slots if receiver.media is not None else []:
                if slot.video is not None and slot.video.transcoding and slot.source_owner:
                    pairs.append({"from": slot.source_owner, "to": receiver.id, "codecs": slot.video.transcoding})
        return pairs

    def describe(self) -> dict[str, object]:
        """The snapshot published on the session topic and returned by the API."""
        return {
            "id": self.id, "kind": self.kind.value, "state": self.state.value, "reason": self.reason,
            "case_id": self.case_id, "created_by": self.created_by, "topic": self.topic,
            "created_at": self.created_at, "ended_at": self.ended_at,
            "participants": [p.describe() for p in self.participants.values()],
            "transcoded": self.transcoded(), "recording": self.recording is not None, "recordings": self.recorded,
        }
