"""H.264 Annex B access units from elementary-stream chunks.

NAL units are cut at start codes (which may be split across chunks); an access unit ends at an AUD,
at SPS/PPS/SEI after a slice, at a slice with ``first_mb_in_slice == 0`` after a slice, at a new PTS,
or when the caller marks the end of a frame. The latest SPS and PPS are remembered and put in front of
every IDR access unit that lacks them, so any keyframe can start a decoder.
"""

from __future__ import annotations

from dataclasses import dataclass

START_CODE = b"\x00\x00\x00\x01"
NAL_SLICE, NAL_IDR, NAL_SEI, NAL_SPS, NAL_PPS, NAL_AUD, NAL_FILLER = 1, 5, 6, 7, 8, 9, 12
MAX_ACCESS_UNIT = 8 * 1024 * 1024


@dataclass
class AccessUnit:
    """One coded picture in Annex B form (4-byte start codes)."""

    data: bytes
    pts: int | None
    keyframe: bool


def nal_type(nal: bytes) -> int:
    """The nal_unit_type of an H.264 NAL unit (without start code)."""
    return nal[0] & 0x1F if nal else 0


def split_annexb(data: bytes) -> list[bytes]:
    """Split an Annex B byte string into NAL units (start codes and trailing zeros removed)."""
    nals = []
    for part in data.split(b"\x00\x00\x01"):
        part = part.rstrip(b"\x00")
        if part:
            nals.append(part)
    return nals


class AccessUnitAssembler:
    """Feed ES chunks (with PTS when a PES began); get complete access units out."""

    def __init__(self, wait_for_keyframe: bool = True) -> None:
        self.wait_for_keyframe = wait_for_keyframe
        self.sps: bytes | None = None
        self.pps: bytes | None = None
        self.dropped = 0
        self._pending = bytearray()  # from the last start code on: a NAL that may continue
        self._scanned = 0
        self._nals: list[bytes] = []
        self._size = 0
        self._has_slice = False
        self._pts: int | None = None
        self._synced = not wait_for_keyframe

    def push(self, data: bytes, pts: int | None = None) -> list[AccessUnit]:
        """Add ES bytes; returns access units completed by them."""
        units: list[AccessUnit] = []
        if pts is not None and pts != self._pts and (self._has_slice or self._pending):
            units += self.flush()
        if pts is not None:
            self._pts = pts
        self._pending += data
        if not self._pending.startswith(b"\x00\x00\x01"):
            first = self._pending.find(b"\x00\x00\x01")
            if first < 0:
                del self._pending[: max(0, len(self._pending) - 3)]
                return units
            del self._pending[:first]
        search = max(self._scanned, 3)
        while True:
            index = self._pending.find(b"\x00\x00\x01", search)
            if index < 0:
                break
            self._add_nal(bytes(self._pending[3:index]).rstrip(b"\x00"), units)
            del self._pending[:index]
            search = 3
        self._scanned = max(3, len(self._pending) - 2)
        if len(self._pending) > MAX_ACCESS_UNIT:
            self.discontinuity()
        return units

    def flush(self) -> list[AccessUnit]:
        """End of frame: the trailing NAL is complete and so is the access unit."""
        units: list[AccessUnit] = []
        if self._pending:
            self._add_nal(bytes(self._pending[3:]).rstrip(b"\x00"), units)
            self._pending.clear()
            self._scanned = 0
        self._finish(units)
        return units

    def discontinuity(self) -> None:
        """Data was lost: drop the unit in progress and (when configured) wait for the next keyframe."""
        if self._nals or self._pending:
            self.dropped += 1
        self._pending.clear()
        self._scanned = 0
        self._nals = []
        self._size = 0
        self._has_slice = False
        if self.wait_for_keyframe:
            self._synced = False

    def _add_nal(self, nal: bytes, units: list[AccessUnit]) -> None:
        if not nal or nal[0] & 0x80:
            return
        kind = nal_type(nal)
        if kind in (NAL_AUD, NAL_SPS, NAL_PPS, NAL_SEI) and self._has_slice:
            self._finish(units)
        elif kind in (NAL_SLICE, NAL_IDR) and self._has_slice and len(nal) > 1 and nal[1] & 0x80:
            self._finish(units)  # first_mb_in_slice == 0: a new picture
        if kind == NAL_SPS:
            self.sps = nal
        elif kind == NAL_PPS:
            self.pps = nal
        elif kind == NAL_FILLER:
            return
        self._nals.append(nal)
        self._size += len(nal) + 4
        self._has_slice = self._has_slice or kind in (NAL_SLICE, NAL_IDR)
        if self._size > MAX_ACCESS_UNIT:
            self.discontinuity()

    def _finish(self, units: list[AccessUnit]) -> None:
        nals, has_slice = self._nals, self._has_slice
        self._nals, self._size, self._has_slice = [], 0, False
        if not has_slice:
            self._nals = nals  # parameter sets or SEI waiting for their picture
            self._size = sum(len(n) + 4 for n in nals)
            return
        kinds = {nal_type(n) for n in nals}
        keyframe = NAL_IDR in kinds
        if keyframe:
            prefix = []
            if NAL_SPS not in kinds and self.sps:
                prefix.append(self.sps)
            if NAL_PPS not in kinds and self.pps:
                prefix.append(self.pps)
            nals = prefix + nals
            kinds = {nal_type(n) for n in nals}
            if NAL_SPS in kinds and NAL_PPS in kinds:
                self._synced = True
        if not self._synced:
            self.dropped += 1
            return
        units.append(AccessUnit(START_CODE + START_CODE.join(nals), self._pts, keyframe))
