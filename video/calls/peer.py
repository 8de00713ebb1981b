"""One participant's ``RTCPeerConnection`` with the server: its own tracks in, the others' out, in slots.

The participant's offer decides the layout, with no renegotiation later:
- the first audio and the first video m-section that *send* (``sendonly``/``sendrecv``) carry its own
  media; the server receives them (tapped, never decoded: see :mod:`video.calls.tap`);
- every ``recvonly`` m-section is a slot: the k-th recvonly video and the k-th recvonly audio form slot k,
  which shows one other participant at a time (the session's ``slots`` map says whom).
Video is negotiated H.264 first, then VP8; audio Opus only. aiortc has no ICE restart, so a participant
whose network changed sends a new offer and gets a new connection in place of the old (``reconnect``).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field

from aiortc import (
    RTCBundlePolicy,
    RTCConfiguration,
    RTCIceServer,
    RTCPeerConnection,
    RTCRtpTransceiver,
    RTCSessionDescription,
)
from aiortc import sdp as aiortc_sdp

from video.calls.forwarding import SlotTrack, Source
from video.calls.media import audio_preferences, video_preferences
from video.calls.tap import FrameTap, TappedFrame, send_pli, tap_receiver
from video.gb28181.tasks import BackgroundTasks
from video.webrtc import OfferError, check_offer, forward_keyframe_requests

SENDING = ("sendonly", "sendrecv")


@dataclass
class Slot:
    """A pair of transceivers (video, audio) that shows one other participant."""

    video: SlotTrack | None = None
    audio: SlotTrack | None = None
    video_mid: str | None = None
    audio_mid: str | None = None
    source_owner: str | None = None

    def tracks(self) -> list[SlotTrack]:
        """The slot's tracks."""
        return [t for t in (self.video, self.audio) if t is not None]

    def describe(self) -> dict[str, object]:
        """mids and the participant shown."""
        return {"video_mid": self.video_mid, "audio_mid": self.audio_mid, "participant": self.source_owner,
                "transcoding": self.video.transcoding if self.video else None}


@dataclass
class PeerMedia:
    """A participant's connection: its sources (what it sends) and slots (what it receives)."""

    owner: str
    pc: RTCPeerConnection
    sources: dict[str, Source] = field(default_factory=dict)
    taps: dict[str, FrameTap] = field(default_factory=dict)
    slots: list[Slot] = field(default_factory=list)
    tasks: BackgroundTasks = field(default_factory=BackgroundTasks)

    async def close(self) -> None:
        """Detach everything and close the connection (and its tasks)."""
        for source in self.sources.values():
            source.close()
        for slot in self.slots:
            for track in slot.tracks():
                track.stop()
        await asyncio.shield(self.pc.close())  # a cancelled caller must not cancel aiortc's own close
        await self.tasks.cancel_all()


def ice_configuration(servers: list[dict]) -> RTCConfiguration:
    """RTCConfiguration from settings-style ICE servers ([] means no STUN/TURN at all, not aiortc's default).

    Max-bundle: with aiortc's default ("balanced") a second audio m-section stays on a transport that the
    answer's BUNDLE discards, and never sends; browsers bundle everything anyway.
    """
    return RTCConfiguration(iceServers=[RTCIceServer(urls=s["urls"], username=s.get("username"),
                                                     credential=s.get("credential")) for s in servers],
                            bundlePolicy=RTCBundlePolicy.MAX_BUNDLE)


def _parse(offer_sdp: str) -> aiortc_sdp.SessionDescription:
    check_offer(offer_sdp)
    try:
        return aiortc_sdp.SessionDescription.parse(offer_sdp)
    except Exception as exc:  # aiortc's parser raises many kinds on malformed SDP
        raise OfferError(f"cannot parse the offer: {exc}"[:300]) from exc


def _add(pc: RTCPeerConnection, kind: str, track: SlotTrack | None) -> RTCRtpTransceiver:
    transceiver = pc.addTransceiver(track or kind, direction="sendonly" if track else "recvonly")
    transceiver.setCodecPreferences(video_preferences() if kind == "video" else audio_preferences())
    return transceiver


async def answer(owner: str, offer_sdp: str, config: RTCConfiguration, max_slots: int,
                 on_state: Callable[[str], None]) -> tuple[PeerMedia, str]:
    """Set up `owner`'s connection from its offer; returns the media and the answer SDP. Raises OfferError."""
    description = _parse(offer_sdp)
    if not any(section.kind in ("audio", "video") for section in description.media):
        raise OfferError("the offer has no audio or video section")
    pc = RTCPeerConnection(config)
    media = PeerMedia(owner, pc)
    own: dict[str, RTCRtpTransceiver] = {}
    slot_tracks: dict[str, list[tuple[SlotTrack, RTCRtpTransceiver]]] = {"audio": [], "video": []}
    for section in description.media:
        if section.kind not in ("audio", "video"):
            continue
        if section.direction in SENDING and section.kind not in own:
            own[section.kind] = _add(pc, section.kind, None)
        elif section.direction in ("recvonly", "sendrecv") and len(slot_tracks[section.kind]) < max_slots:
            track = SlotTrack(section.kind, "")
            transceiver = _add(pc, section.kind, track)
            forward_keyframe_requests(transceiver.sender, track)
            slot_tracks[section.kind].append((track, transceiver))
        else:
            pc.addTransceiver(section.kind, direction="inactive")
    try:
        await pc.setRemoteDescription(RTCSessionDescription(sdp=offer_sdp, type="offer"))
        for kind, transceiver in own.items():
            _tap(media, kind, transceiver)
        for kind, pairs in slot_tracks.items():
            for index, (track, transceiver) in enumerate(pairs):
                track.codec = transceiver._codecs[0].mimeType.lower()  # what aiortc's sender will send
                while len(media.slots) <= index:
                    media.slots.append(Slot())
                setattr(media.slots[index], kind, track)
                setattr(media.slots[index], f"{kind}_mid", transceiver.mid)
        await pc.setLocalDescription(await pc.createAnswer())
    except OfferError:
        await media.close()
        raise
    except Exception as exc:  # aiortc raises many kinds on an unusable offer
        await media.close()
        raise OfferError(f"cannot use the offer: {exc}"[:300]) from exc
    pc.on("connectionstatechange", lambda: on_state(pc.connectionState))
    return media, pc.localDescription.sdp


def _tap(media: PeerMedia, kind: str, transceiver: RTCRtpTransceiver) -> None:
    receiver = transceiver.receiver
    last_ssrc = 0

    def request_keyframe() -> None:
        if last_ssrc:
            media.tasks.spawn(send_pli(receiver, last_ssrc))

    source = Source(media.owner, kind, None, request_keyframe if kind == "video" else None)

    def on_frame(frame: TappedFrame) -> None:
        nonlocal last_ssrc
        last_ssrc = frame.ssrc
        source.on_frame(frame)

    media.sources[kind] = source
    media.taps[kind] = tap_receiver(receiver, kind, transceiver._codecs, on_frame)


async def close_quietly(media: PeerMedia | None) -> None:
    """Close a participant's media, ignoring errors of a connection already gone."""
    if media is not None:
        with contextlib.suppress(Exception):
            await media.close()
