"""What the forwarder needs to know of each codec: frame starts, keyframes, clocks and preferences.

Only the codecs browsers and aiortc share are used: H.264 (packetization-mode 1) and VP8 for video, Opus
for audio. H.264 keyframes get the latest SPS/PPS put in front when they lack them, so that a receiver
that starts at any keyframe can decode it.
"""

from __future__ import annotations

from aiortc import RTCRtpSender
from aiortc.rtcrtpparameters import RTCRtpCodecCapability

from video.gb28181.h264 import NAL_IDR, NAL_PPS, NAL_SPS, START_CODE, nal_type, split_annexb
from video.webrtc import H264, RTX, h264_preferences

VP8 = "video/vp8"
OPUS = "audio/opus"
AUDIO_CLOCK = 48_000
VIDEO_CLOCK = 90_000
FU_A, STAP_A = 28, 24


def video_preferences() -> list[RTCRtpCodecCapability]:
    """H.264 first (forwarded as it is by every browser), then VP8, then RTX."""
    return [c for c in h264_preferences() if c.mimeType.lower() == H264] + only(VP8)


def only(mime_type: str, kind: str = "video") -> list[RTCRtpCodecCapability]:
    """aiortc's capabilities of one codec (plus RTX for video): a peer restricted to it."""
    codecs = RTCRtpSender.getCapabilities(kind).codecs
    chosen = [c for c in codecs if c.mimeType.lower() == mime_type]
    return chosen + ([c for c in codecs if c.mimeType.lower() == RTX] if kind == "video" else [])


def audio_preferences() -> list[RTCRtpCodecCapability]:
    """Opus only: every browser has it, and it is forwarded as it is."""
    return only(OPUS, "audio")


def clock_rate(kind: str) -> int:
    """The RTP clock of a kind of media."""
    return AUDIO_CLOCK if kind == "audio" else VIDEO_CLOCK


def starts_frame(codec: str, payload: bytes) -> bool:
    """Whether an RTP payload (as received) begins a frame, or at least a NAL unit (H.264)."""
    if not payload:
        return False
    if codec == H264:
        nal = payload[0] & 0x1F
        return nal != FU_A or (len(payload) > 1 and bool(payload[1] & 0x80))
    if codec == VP8:
        return bool(payload[0] & 0x10) and payload[0] & 0x0F == 0  # S bit, partition 0
    return True


def nal_types(data: bytes) -> list[int]:
    """The nal_unit_types of an Annex B byte string, in order."""
    types, index = [], data.find(b"\x00\x00\x01")
    while index >= 0 and index + 3 < len(data):
        types.append(data[index + 3] & 0x1F)
        index = data.find(b"\x00\x00\x01", index + 3)
    return types


def is_keyframe(codec: str, data: bytes) -> bool:
    """Whether an encoded frame can start a decoder (an IDR picture; a VP8 key frame; any audio)."""
    if codec == H264:
        return NAL_IDR in nal_types(data)
    if codec == VP8:
        return bool(data) and not data[0] & 0x01
    return True


class ParameterSets:
    """Remembers an H.264 stream's SPS/PPS and puts them in front of keyframes that lack them."""

    def __init__(self) -> None:
        self.sps: bytes | None = None
        self.pps: bytes | None = None

    def complete(self, data: bytes, types: list[int]) -> bytes:
        """The access unit, with the last SPS/PPS added if it is an IDR without them."""
        if NAL_SPS in types or NAL_PPS in types:
            for nal in split_annexb(data):
                kind = nal_type(nal)
                if kind == NAL_SPS:
                    self.sps = nal
                elif kind == NAL_PPS:
                    self.pps = nal
            return data
        if NAL_IDR in types and self.sps and self.pps:
            return START_CODE + self.sps + START_CODE + self.pps + data
        return data
