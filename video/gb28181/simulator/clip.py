"""The simulated cameras' picture: a looping H.264 test pattern, encoded once with PyAV ahead of time.

Each frame carries its number twice: as digits for people, and as a row of 16 black/white blocks
(most significant bit first) that :func:`read_counter` reads back from a decoded frame.
SPS/PPS are kept only in front of the first keyframe, as many cameras do, so the relay must carry them.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

import av
import numpy as np

from video.gb28181.h264 import NAL_PPS, NAL_SPS, START_CODE, nal_type, split_annexb

COUNTER_BITS = 16
BAR_HEIGHT = 16
_FONT = {  # 3x5 digits, row by row
    "0": "111101101101111", "1": "010110010010111", "2": "111001111100111", "3": "111001111001111",
    "4": "101101111001001", "5": "111100111001111", "6": "111100111101111", "7": "111001001001001",
    "8": "111101111101111", "9": "111101111001111",
}


@dataclass(frozen=True)
class EncodedFrame:
    """One encoded frame of the clip (Annex B)."""

    index: int
    data: bytes
    keyframe: bool


def draw_frame(index: int, width: int, height: int) -> np.ndarray:
    """A yuv420p picture (as one (h*3/2, w) array) showing a moving gradient and the frame number."""
    luma = ((np.arange(width)[None, :] + np.arange(height)[:, None] + index * 4) % 200 + 28).astype(np.uint8)
    block = width // COUNTER_BITS
    for bit in range(COUNTER_BITS):
        value = 235 if (index >> (COUNTER_BITS - 1 - bit)) & 1 else 16
        luma[:BAR_HEIGHT, bit * block : (bit + 1) * block] = value
    scale = max(2, height // 40)
    x0, y0 = 8, BAR_HEIGHT + 8
    for position, digit in enumerate(str(index)):
        pattern = _FONT[digit]
        for cell, on in enumerate(pattern):
            if on == "1":
                row, column = divmod(cell, 3)
                x = x0 + position * 4 * scale + column * scale
                y = y0 + row * scale
                luma[y : y + scale, x : x + scale] = 235
    chroma = np.full((height // 2, width), 128, dtype=np.uint8)
    return np.vstack([luma, chroma])


def read_counter(luma: np.ndarray) -> int:
    """Read the frame number back from a decoded picture's luma plane."""
    block = luma.shape[1] // COUNTER_BITS
    value = 0
    for bit in range(COUNTER_BITS):
        sample = luma[BAR_HEIGHT // 4 : BAR_HEIGHT * 3 // 4, bit * block + block // 4 : (bit + 1) * block - block // 4]
        value = (value << 1) | int(sample.mean() > 128)
    return value


def add_texture(picture: np.ndarray, index: int, height: int) -> np.ndarray:
    """Fresh noise over the lower half of the luma plane: detail for an encoder to spend its bitrate on."""
    rng = np.random.default_rng(index)
    lower = picture[height // 2 : height].astype(np.int16) + rng.integers(-12, 12, (height - height // 2,
                                                                               picture.shape[1]), dtype=np.int16)
    picture[height // 2 : height] = np.clip(lower, 0, 255).astype(np.uint8)
    return picture


def encode_clip(
    width: int = 320, height: int = 240, fps: int = 25, frames: int = 50, gop: int = 25, codec: str = "h264",
    bitrate_kbps: int = 0,
) -> tuple[EncodedFrame, ...]:
    """Encode the looping clip in H.264 (or H.265, to show it is refused), cached per parameters.

    With ``bitrate_kbps`` the picture gets a noisy texture and the encoder a VBV at that rate, so that the
    clip has a camera's bitrate (a plain gradient costs almost nothing to encode).
    """
    # one cache key however the arguments were passed: a clip encoded ahead of time (the benches) is the one
    # the cameras then use, instead of a second 1080p encoding that would stall every camera's first INVITE
    with _ENCODING:  # cameras warming up in threads encode a shared clip once, not once each
        return _encode_clip(width, height, fps, frames, gop, codec, bitrate_kbps)


_ENCODING = threading.Lock()


@lru_cache(maxsize=4)
def _encode_clip(
    width: int, height: int, fps: int, frames: int, gop: int, codec: str, bitrate_kbps: int
) -> tuple[EncodedFrame, ...]:
    encoder = av.CodecContext.create("libx265" if codec == "h265" else "libx264", "w")
    encoder.width, encoder.height, encoder.pix_fmt = width, height, "yuv420p"
    encoder.time_base = Fraction(1, fps)
    encoder.framerate = Fraction(fps, 1)
    params = f"keyint={gop}:min-keyint={gop}:scenecut=0:bframes=0" + (":log-level=none" if codec == "h265" else "")
    if bitrate_kbps > 0:
        params += f":bitrate={bitrate_kbps}:vbv-maxrate={bitrate_kbps}:vbv-bufsize={bitrate_kbps}"
    params_key = "x265-params" if codec == "h265" else "x264-params"
    encoder.options = {"preset": "ultrafast", "tune": "zerolatency", params_key: params}
    packets: list[av.Packet] = []
    for index in range(frames):
        picture = draw_frame(index, width, height)
        if bitrate_kbps > 0:
            picture = add_texture(picture, index, height)
        frame = av.VideoFrame.from_ndarray(picture, format="yuv420p")
        frame.pts = index
        packets += encoder.encode(frame)
    packets += encoder.encode(None)
    strip = codec == "h264"
    return tuple(
        EncodedFrame(i, _without_parameter_sets(bytes(p)) if i and strip else bytes(p), bool(p.is_keyframe))
        for i, p in enumerate(packets)
    )


def _without_parameter_sets(data: bytes) -> bytes:
    """Drop SPS/PPS from a frame (x264 repeats them before every keyframe; many cameras do not)."""
    nals = [nal for nal in split_annexb(data) if nal_type(nal) not in (NAL_SPS, NAL_PPS)]
    return START_CODE + START_CODE.join(nals)
