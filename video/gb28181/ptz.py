"""PTZCmd: the 8-byte front-end control command of GB/T 28181-2016 appendix A.3, as 16 hex digits.

Byte 1 is A5H; byte 2 holds the version (high nibble, 0) and a check nibble
((byte1 high + byte1 low + byte2 high) mod 16); byte 3 is the address's low 8 bits; byte 4 the command;
bytes 5 and 6 data 1 and 2 (pan and tilt speed, or preset number in byte 6); byte 7's high nibble is
data 3 (zoom speed) and its low nibble the address's high 4 bits; byte 8 is the sum of bytes 1-7 mod 256.
PTZ command bits: 0x20 zoom out, 0x10 zoom in, 0x08 up, 0x04 down, 0x02 left, 0x01 right; 0x00 stops.
Presets: 0x81 set, 0x82 call, 0x83 delete.
"""

from __future__ import annotations

from dataclasses import dataclass

ZOOM_OUT, ZOOM_IN, UP, DOWN, LEFT, RIGHT = 0x20, 0x10, 0x08, 0x04, 0x02, 0x01
PRESET_SET, PRESET_CALL, PRESET_DELETE = 0x81, 0x82, 0x83
DIRECTIONS = {"up": UP, "down": DOWN, "left": LEFT, "right": RIGHT, "zoom_in": ZOOM_IN, "zoom_out": ZOOM_OUT}


class PtzError(ValueError):
    """A PTZCmd that is malformed or asks for something impossible."""


@dataclass(frozen=True)
class PtzCommand:
    """A decoded PTZCmd."""

    command: int
    data1: int = 0
    data2: int = 0
    data3: int = 0
    address: int = 0

    def to_bytes(self) -> bytes:
        """The 8 bytes with both check values filled in."""
        if not (0 <= self.command <= 0xFF and 0 <= self.data1 <= 0xFF and 0 <= self.data2 <= 0xFF):
            raise PtzError("command and data 1/2 must be bytes")
        if not (0 <= self.data3 <= 0x0F and 0 <= self.address <= 0xFFF):
            raise PtzError("data 3 is 4 bits, the address 12 bits")
        first, version = 0xA5, 0x0
        second = (version << 4) | (((first >> 4) + (first & 0x0F) + version) & 0x0F)
        body = bytes([first, second, self.address & 0xFF, self.command, self.data1, self.data2,
                      (self.data3 << 4) | (self.address >> 8)])
        return body + bytes([sum(body) & 0xFF])

    def to_hex(self) -> str:
        """The upper-case hex string carried in ``<PTZCmd>``."""
        return self.to_bytes().hex().upper()

    @property
    def directions(self) -> set[str]:
        """The movement names set in the command byte (empty for stop or non-PTZ commands)."""
        if self.command & 0xC0:
            return set()
        return {name for name, bit in DIRECTIONS.items() if self.command & bit}


def move(
    directions: set[str] | frozenset[str], pan_speed: int = 0x80, tilt_speed: int = 0x80, zoom_speed: int = 0x8
) -> PtzCommand:
    """Pan/tilt/zoom in the named directions ('up', 'down', 'left', 'right', 'zoom_in', 'zoom_out')."""
    unknown = set(directions) - DIRECTIONS.keys()
    if unknown:
        raise PtzError(f"unknown directions {sorted(unknown)}")
    if {"up", "down"} <= directions or {"left", "right"} <= directions or {"zoom_in", "zoom_out"} <= directions:
        raise PtzError("opposite directions at once")
    command = 0
    for name in directions:
        command |= DIRECTIONS[name]
    pans = bool(command & (LEFT | RIGHT))
    tilts = bool(command & (UP | DOWN))
    zooms = bool(command & (ZOOM_IN | ZOOM_OUT))
    return PtzCommand(command, pan_speed if pans else 0, tilt_speed if tilts else 0, zoom_speed if zooms else 0)


def stop() -> PtzCommand:
    """Stop every movement."""
    return PtzCommand(0x00)


def preset(action: int, number: int) -> PtzCommand:
    """Set, call or delete preset `number` (1-255)."""
    if action not in (PRESET_SET, PRESET_CALL, PRESET_DELETE) or not 1 <= number <= 255:
        raise PtzError("preset action must be set/call/delete and number 1-255")
    return PtzCommand(action, 0, number)


def parse_ptz(text: str) -> PtzCommand:
    """Decode a PTZCmd hex string, checking A5H, the check nibble and the checksum; raises PtzError."""
    try:
        data = bytes.fromhex(text.strip())
    except ValueError as exc:
        raise PtzError("PTZCmd is not hex") from exc
    if len(data) != 8 or data[0] != 0xA5:
        raise PtzError("PTZCmd must be 8 bytes starting with A5")
    if (data[1] & 0x0F) != ((0xA + 0x5 + (data[1] >> 4)) & 0x0F) or data[7] != sum(data[:7]) & 0xFF:
        raise PtzError("PTZCmd check values do not match")
    return PtzCommand(data[3], data[4], data[5], data[6] >> 4, ((data[6] & 0x0F) << 8) | data[2])
