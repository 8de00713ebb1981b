"""PS demuxing and H.264 access units, for each way cameras misbehave, ending in frames PyAV decodes."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.gb28181.media import lossy, rtp_stream, run_pipeline
from video.gb28181.h264 import NAL_PPS, NAL_SPS, AccessUnitAssembler, nal_type, split_annexb
from video.gb28181.ps_demux import PsDemuxer, read_timestamp, sniff_codec
from video.gb28181.ps_mux import MuxOptions, PsMuxer, mpeg_crc32
from video.gb28181.rtp import parse_rtp
from video.gb28181.simulator.clip import encode_clip

MISBEHAVIOURS = {
    "well-behaved": MuxOptions(),
    "no PSM": MuxOptions(psm=False),
    "pack stuffing": MuxOptions(stuffing=7),
    "frame split over many PES": MuxOptions(pes_payload=300),
    "PES_packet_length 0": MuxOptions(zero_pes_length=True),
    "marker bits missing": MuxOptions(marker_bits=False),
    "all at once": MuxOptions(psm=False, stuffing=3, pes_payload=700, zero_pes_length=True, marker_bits=False),
}


@pytest.mark.parametrize("options", MISBEHAVIOURS.values(), ids=MISBEHAVIOURS.keys())
def test_every_misbehaviour_yields_every_frame_decoded_in_order(options):
    pipeline, decoder = run_pipeline(rtp_stream(60, options))
    assert decoder.errors == 0
    assert decoder.counters == [n % 50 for n in range(60)]
    assert pipeline.codec == "h264" and pipeline.playable


def test_frames_are_found_without_rtp_marker_bits():
    _, decoder = run_pipeline(rtp_stream(30, MuxOptions(zero_pes_length=True), marker=False))
    assert decoder.errors == 0
    assert decoder.counters[:28] == list(range(28))  # the last frame waits for the next one to begin


def test_sps_and_pps_are_carried_into_a_later_idr():
    clip = encode_clip()
    later_idr = clip[25]
    assert later_idr.keyframe and {nal_type(n) for n in split_annexb(later_idr.data)}.isdisjoint({NAL_SPS, NAL_PPS})
    _, decoder = run_pipeline(rtp_stream(50, MuxOptions()))
    second_keyframe = [u for u in decoder.units if u.keyframe][1]
    kinds = [nal_type(n) for n in split_annexb(second_keyframe.data)]
    assert kinds[:2] == [NAL_SPS, NAL_PPS]


def test_a_stream_joined_mid_gop_starts_at_the_next_keyframe():
    packets = rtp_stream(80, MuxOptions())
    _, decoder = run_pipeline(packets[40:])
    assert decoder.errors == 0
    assert decoder.units[0].keyframe
    assert decoder.counters[0] in (0, 25)


@pytest.mark.parametrize(("loss", "reorder"), [(0.0, 0.3), (0.03, 0.0), (0.03, 0.2)])
def test_loss_and_reorder_still_yield_decodable_frames(loss, reorder):
    pipeline, decoder = run_pipeline(lossy(rtp_stream(150, MuxOptions()), loss, reorder))
    assert decoder.errors == 0
    assert len(decoder.counters) > 20
    if loss == 0:
        assert decoder.counters == [n % 50 for n in range(150)]
    else:
        assert pipeline.reorder.lost > 0


def test_h265_is_detected_from_the_psm_and_without_it_and_reported_unplayable():
    for options in (MuxOptions(codec="h265"), MuxOptions(codec="h265", psm=False)):
        pipeline, decoder = run_pipeline(rtp_stream(5, options, codec="h265"))
        assert pipeline.codec == "h265" and pipeline.playable is False
        assert decoder.units == []
    assert sniff_codec(encode_clip(codec="h265")[0].data) == "h265"
    assert sniff_codec(encode_clip()[0].data) == "h264"


def test_demuxer_output_does_not_depend_on_how_bytes_are_split():
    options = MuxOptions(zero_pes_length=True, pes_payload=500)
    muxer = PsMuxer(options)
    stream = b"".join(muxer.mux(f.data, i * 3600, f.keyframe) for i, f in enumerate(encode_clip()[:6]))
    whole = PsDemuxer()
    one = b"".join(c.data for c in whole.feed(stream) + whole.flush())
    bytewise = PsDemuxer()
    pieces = [c.data for i in range(0, len(stream), 13) for c in bytewise.feed(stream[i : i + 13])]
    assert b"".join(pieces + [c.data for c in bytewise.flush()]) == one
    assert one.count(b"\x00\x00\x01") >= 6


def test_timestamps_read_without_marker_bits():
    muxer = PsMuxer(MuxOptions(marker_bits=False))
    pes = muxer.pes(b"\x00\x00\x01\x09\xf0", 2**33 - 12345)
    assert read_timestamp(pes, 9) == 2**33 - 12345
    assert mpeg_crc32(b"123456789") == 0x0376E6E7  # the CRC-32/MPEG-2 check value


def test_garbage_between_packs_is_skipped():
    clip = encode_clip()
    muxer = PsMuxer()
    stream = b"\x00\x00\x01\xff junk" + muxer.mux(clip[0].data, 0, True) + b"\x12\x34" * 50 + muxer.mux(
        clip[1].data, 3600, False)
    demuxer = PsDemuxer()
    chunks = demuxer.feed(stream)
    assert [c.pts for c in chunks] == [0, 3600]
    assert demuxer.skipped_bytes >= 100


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.binary(max_size=400), max_size=20))
def test_random_bytes_never_break_the_demuxer_or_assembler(chunks):
    demuxer, assembler = PsDemuxer(), AccessUnitAssembler(wait_for_keyframe=False)
    for data in chunks:
        for chunk in demuxer.feed(data):
            assembler.push(chunk.data, chunk.pts)
        assembler.push(data)
    demuxer.flush()
    assembler.flush()


_VALID = rtp_stream(3, MuxOptions(pes_payload=400))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, len(_VALID) - 1), st.integers(0, 1500), st.binary(min_size=1, max_size=16))
def test_corrupted_streams_never_break_the_pipeline(index, position, garbage):
    packets = list(_VALID)
    data = packets[index]
    packets[index] = data[:position] + garbage + data[position + len(garbage) :]
    run_pipeline(packets)
    payload = parse_rtp(_VALID[0]).payload
    demuxer = PsDemuxer()
    demuxer.feed(payload[:position] + garbage + payload[position:])
