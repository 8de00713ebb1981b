"""RTP parsing, reordering, loss, SSRC filtering and RFC 4571 framing."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from video.gb28181.rfc4571 import FrameReader, FramingError, frame
from video.gb28181.rtp import ReorderBuffer, RtpError, RtpPacket, SsrcFilter, parse_rtp, seq_distance


def packet(seq: int, ssrc: int = 1) -> RtpPacket:
    return RtpPacket(96, seq & 0xFFFF, seq * 3600, ssrc, bytes([seq & 0xFF]))


def test_round_trip_with_csrc_extension_and_marker():
    original = RtpPacket(96, 65535, 2**32 - 1, 0xDEADBEEF, b"payload", True, (1, 2), (0xBEDE, b"\x01\x02\x03\x04"))
    assert parse_rtp(original.to_bytes()) == original


def test_padding_is_removed():
    data = bytearray(RtpPacket(96, 1, 2, 3, b"abc").to_bytes() + b"\x00\x00\x03")
    data[0] |= 0x20
    assert parse_rtp(bytes(data)).payload == b"abc"


@pytest.mark.parametrize(
    "data",
    [b"", b"\x80" * 11, b"\x40" + b"\x00" * 11, b"\x8f" + b"\x00" * 11, b"\x90" + b"\x00" * 13,
     b"\xa0" + b"\x00" * 11 + b"\x05", b"\xa0" + b"\x00" * 12],
)
def test_malformed_packets_raise_rtp_error(data):
    with pytest.raises(RtpError):
        parse_rtp(data)


def test_sequence_distance_wraps():
    assert seq_distance(65535, 0) == 1
    assert seq_distance(0, 65535) == -1
    assert seq_distance(100, 200) == 100


def test_reordered_packets_come_out_in_order_across_wraparound():
    buffer = ReorderBuffer(depth=8)
    order = [65533, 65535, 65534, 1, 0, 2, 4, 3]
    out = [p.sequence for seq in order for p, lost in buffer.push(packet(seq))]
    assert out == [65533, 65534, 65535, 0, 1, 2, 3, 4]
    assert buffer.lost == 0


def test_a_gap_is_declared_lost_once_the_buffer_is_deep_enough():
    buffer = ReorderBuffer(depth=3, max_delay=1e9)
    released = []
    for seq in [10, 12, 13, 14]:
        released += buffer.push(packet(seq))
    assert [(p.sequence, lost) for p, lost in released] == [(10, False), (12, True), (13, False), (14, False)]
    assert buffer.lost == 1


def test_a_gap_is_declared_lost_after_the_delay():
    now = [0.0]
    buffer = ReorderBuffer(depth=100, max_delay=0.1, clock=lambda: now[0], startup=1)
    assert [p.sequence for p, _ in buffer.push(packet(1))] == [1]
    assert buffer.push(packet(3)) == []
    now[0] = 0.2
    assert [(p.sequence, lost) for p, lost in buffer.poll()] == [(3, True)]


def test_duplicates_and_late_packets_are_dropped():
    buffer = ReorderBuffer(startup=1)
    buffer.push(packet(5))
    buffer.push(packet(6))
    assert buffer.push(packet(6)) == [] and buffer.push(packet(5)) == []
    assert buffer.late + buffer.duplicates == 2


def test_swapped_first_packets_still_start_in_order():
    buffer = ReorderBuffer()
    out = [p.sequence for seq in [2, 1, 3, 4, 5] for p, _ in buffer.push(packet(seq))]
    assert out == [1, 2, 3, 4, 5]


def test_a_restarted_stream_resynchronises():
    buffer = ReorderBuffer(depth=4, startup=1)
    buffer.push(packet(30000))
    assert [p.sequence for p, _ in buffer.push(packet(100))] == [100]


def test_ssrc_filter_expected_adopted_and_switched():
    adopt = SsrcFilter()
    assert adopt.accept(packet(1, ssrc=7)) and not adopt.accept(packet(2, ssrc=8))
    expected = SsrcFilter(42, adopt_after=3)
    assert expected.accept(packet(1, ssrc=42)) and not expected.accept(packet(2, ssrc=9))
    stubborn = SsrcFilter(42, adopt_after=3)  # the camera ignores y=
    assert [stubborn.accept(packet(i, ssrc=9)) for i in range(3)] == [False, False, True]
    assert stubborn.ssrc == 9


def test_rfc4571_frames_survive_any_split():
    packets = [b"a", b"", b"bc" * 500, bytes(range(256))]
    stream = b"".join(frame(p) for p in packets)
    reader = FrameReader()
    out = []
    for byte in range(len(stream)):
        out += reader.feed(stream[byte : byte + 1])
    assert out == [p for p in packets if p]
    with pytest.raises(FramingError):
        frame(b"x" * 70000)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes_only_raise_rtp_error(data):
    try:
        parse_rtp(data)
    except RtpError:
        pass
    FrameReader().feed(data)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 0xFFFF), max_size=200))
def test_reorder_buffer_only_moves_forward_or_resynchronises(sequences):
    buffer = ReorderBuffer(depth=8, max_delay=1e9)
    released = [p.sequence for seq in sequences for p, _ in buffer.push(packet(seq))]
    assert len(released) <= len(sequences)
    for before, after in zip(released, released[1:], strict=False):
        assert seq_distance(before, after) > 0 or seq_distance(before, after) <= -32
