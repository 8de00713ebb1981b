"""Answering a browser's WebRTC offer with a send-only passthrough video track, negotiated as H.264 only.

aiortc's sender reacts to a viewer's PLI/FIR by asking its encoder for a keyframe, which a passthrough
track does not have; :func:`forward_keyframe_requests` passes the request on to the track instead.
"""

from __future__ import annotations

import aioice.ice
from aiortc import RTCPeerConnection, RTCRtpSender, RTCSessionDescription
from aiortc.rtcrtpparameters import RTCRtpCodecCapability

from video.passthrough import PassthroughTrack

H264 = "video/h264"
RTX = "video/rtx"
MAX_SDP = 64 * 1024


class OfferError(ValueError):
    """An SDP offer that cannot be answered (malformed, too big, no video, no H.264)."""


def check_offer(offer_sdp: object) -> None:
    """Refuse anything but a non-empty SDP string of at most 64 KiB (OfferError)."""
    if not isinstance(offer_sdp, str) or not offer_sdp.strip() or len(offer_sdp) > MAX_SDP:
        raise OfferError("the offer must be a non-empty SDP string of at most 64 KiB")


def use_ice_addresses(addresses: list[str]) -> None:
    """Offer only these local addresses as ICE host candidates (empty: every interface, aioice's default)."""
    original = getattr(aioice.ice.get_host_addresses, "original", aioice.ice.get_host_addresses)
    if not addresses:
        aioice.ice.get_host_addresses = original
        return

    def configured(use_ipv4: bool, use_ipv6: bool) -> list[str]:
        return [a for a in addresses if (":" in a and use_ipv6) or (":" not in a and use_ipv4)]

    configured.original = original  # type: ignore[attr-defined]
    aioice.ice.get_host_addresses = configured


def h264_preferences() -> list[RTCRtpCodecCapability]:
    """aiortc's H.264 codecs, packetization-mode 1 (what the packer writes) first, and RTX."""
    codecs = RTCRtpSender.getCapabilities("video").codecs
    h264 = [c for c in codecs if c.mimeType.lower() == H264]
    h264.sort(key=lambda c: str(c.parameters.get("packetization-mode", "0")) != "1")
    return h264 + [c for c in codecs if c.mimeType.lower() == RTX]


def forward_keyframe_requests(sender: RTCRtpSender, track: PassthroughTrack) -> None:
    """Make the viewer's PLI/FIR reach the track (aiortc would only flag its own encoder)."""
    original = sender._send_keyframe

    def send_keyframe() -> None:
        original()
        track.request_keyframe()

    sender._send_keyframe = send_keyframe  # type: ignore[method-assign]


async def answer_offer(pc: RTCPeerConnection, offer_sdp: str, track: PassthroughTrack) -> str:
    """Attach `track` send-only, H.264 only, to `pc`, apply the offer and return the answer SDP."""
    check_offer(offer_sdp)
    transceiver = pc.addTransceiver(track, direction="sendonly")
    transceiver.setCodecPreferences(h264_preferences())
    forward_keyframe_requests(transceiver.sender, track)
    try:
        await pc.setRemoteDescription(RTCSessionDescription(sdp=offer_sdp, type="offer"))
    except Exception as exc:  # aiortc raises many kinds on malformed SDP
        raise OfferError(f"cannot use the offer: {exc}"[:300]) from exc
    if transceiver.mid is None:
        raise OfferError("the offer has no video section")
    answer = await pc.createAnswer()
    await pc.setLocalDescription(answer)
    return pc.localDescription.sdp
