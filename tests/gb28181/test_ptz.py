"""PTZCmd bytes (GB/T 28181-2016 A.3)."""

from __future__ import annotations

import pytest

from video.gb28181.ptz import PRESET_CALL, PRESET_SET, UP, PtzCommand, PtzError, move, parse_ptz, preset, stop


def test_tilt_up_matches_the_well_known_command():
    assert PtzCommand(UP, 0x00, 0xFA, 0, address=1).to_hex() == "A50F010800FA00B7"


def test_second_byte_carries_the_check_nibble_and_last_byte_the_checksum():
    data = move({"left", "zoom_in"}, pan_speed=0x40, zoom_speed=0x5).to_bytes()
    assert data[0] == 0xA5 and data[1] == 0x0F
    assert data[3] == 0x12  # zoom in (bit 4) + left (bit 1)
    assert (data[4], data[5], data[6]) == (0x40, 0x00, 0x50)  # pan speed, no tilt, zoom speed in the high nibble
    assert data[7] == sum(data[:7]) & 0xFF


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        (stop(), "A50F0000000000B4"),
        (move({"right"}, pan_speed=0x20), "A50F0001200000D5"),
        (move({"down", "zoom_out"}, tilt_speed=0x10, zoom_speed=0xF), "A50F00240010F0D8"),
        (preset(PRESET_CALL, 3), "A50F008200030039"),
        (preset(PRESET_SET, 255), "A50F008100FF0034"),
    ],
)
def test_command_bytes(command, expected):
    assert command.to_hex() == expected
    assert parse_ptz(expected) == command


def test_address_high_bits_go_to_the_low_nibble_of_byte_7():
    command = PtzCommand(UP, 0, 0x10, 0x3, address=0x2AB)
    data = command.to_bytes()
    assert data[2] == 0xAB and data[6] == 0x32
    assert parse_ptz(command.to_hex()) == command


def test_directions_are_decoded():
    assert parse_ptz(move({"up", "left", "zoom_in"}).to_hex()).directions == {"up", "left", "zoom_in"}
    assert parse_ptz(stop().to_hex()).directions == set()


@pytest.mark.parametrize("text", ["", "zz", "A50F0000000000B5", "A40F0000000000B3", "A5000000000000A5", "A50F00"])
def test_bad_commands_are_rejected(text):
    with pytest.raises(PtzError):
        parse_ptz(text)


def test_impossible_requests_are_rejected():
    with pytest.raises(PtzError):
        move({"up", "down"})
    with pytest.raises(PtzError):
        move({"sideways"})
    with pytest.raises(PtzError):
        preset(PRESET_CALL, 0)
