"""A latency probe carried in the video itself: an SEI NAL unit with a frame number and the send time.

The simulator puts one in front of each access unit (``CameraConfig.stamp``); since the relay forwards
access units untouched, a viewer that finds it knows which frame it got and when the camera sent it
(``time.monotonic_ns``: meaningful on the same machine). Only printable ASCII follows the NAL header,
so no emulation-prevention bytes are ever needed.
"""

from __future__ import annotations

from video.gb28181.h264 import NAL_SEI

STAMP_UUID = b"wall-latency-sei"  # user_data_unregistered uuid_iso_iec_11578 (16 bytes)
SEI_USER_DATA_UNREGISTERED = 5
_DIGITS = 24


def stamp_nal(sequence: int, sent_ns: int) -> bytes:
    """The SEI NAL unit (without start code) stamping frame `sequence` sent at `sent_ns`."""
    payload = STAMP_UUID + f"{sent_ns & (2**64 - 1):016x}{sequence & (2**32 - 1):08x}".encode()
    return bytes([NAL_SEI, SEI_USER_DATA_UNREGISTERED, len(payload)]) + payload + b"\x80"


def read_stamp(data: bytes) -> tuple[int, int] | None:
    """(sequence, sent_ns) from an access unit carrying a stamp, else None."""
    index = data.find(STAMP_UUID)
    if index < 0:
        return None
    digits = data[index + len(STAMP_UUID) : index + len(STAMP_UUID) + _DIGITS]
    try:
        return int(digits[16:], 16), int(digits[:16], 16)
    except ValueError:
        return None
