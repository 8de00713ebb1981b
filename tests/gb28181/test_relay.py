"""The relay end to end: simulator → SIP platform → relay → WebRTC → an aiortc viewer decoding frames."""

from __future__ import annotations

import pytest

from tests.gb28181.conftest import eventually
from tests.gb28181.webrtc_client import WebRtcViewer
from video.gb28181.relay import NotPlayable, Relay, RelaySettings, StreamState
from video.gb28181.viewers import ViewerSessions

pytestmark = pytest.mark.usefixtures("loopback_ice")


@pytest.fixture
async def relay(platform):
    states: list[tuple[str, str]] = []
    relay = Relay(platform, RelaySettings(grace=0.3, codec_timeout=3.0), on_state=lambda s: states.append(
        (s.channel_id, s.state.value)))
    relay.states = states
    yield relay
    await relay.close()


@pytest.fixture
async def sessions(relay):
    sessions = ViewerSessions(relay, connect_timeout=10.0)
    yield sessions
    await sessions.close()


@pytest.fixture
async def viewers():
    made: list[WebRtcViewer] = []

    def make() -> WebRtcViewer:
        made.append(WebRtcViewer())
        return made[-1]

    yield make
    for viewer in made:
        await viewer.close()


def player(sessions, camera):
    channel = camera.config.channel_ids()[0]
    return lambda offer: sessions.play(camera.config.device_id, channel, offer)


async def test_a_webrtc_viewer_decodes_the_camera_frames_sent_as_h264_without_reencoding(
        platform, make_camera, sessions, viewers):
    camera = await make_camera()
    viewer = viewers()
    answer = await viewer.connect(player(sessions, camera))
    assert answer["state"] == "live" and answer["codec"] == "h264"
    assert set(viewer.negotiated_codecs()) <= {"H264", "rtx"} and "H264" in viewer.negotiated_codecs()
    await eventually(lambda: len(viewer.counters) >= 10, timeout=20)
    counters = viewer.counters[:10]
    assert counters == list(range(counters[0], counters[0] + 10))  # consecutive clip frames, decoded
    stream = sessions.get(answer["session"]).stream
    snapshot = stream.snapshot()
    assert snapshot["frames_out"] >= 10 and snapshot["send_latency"]["count"] > 0


async def test_two_viewers_share_one_invite_and_both_decode(platform, make_camera, sessions, viewers):
    camera = await make_camera()
    first, second = viewers(), viewers()
    await first.connect(player(sessions, camera))
    await second.connect(player(sessions, camera))
    await eventually(lambda: len(first.counters) >= 5 and len(second.counters) >= 5, timeout=20)
    assert len(camera.streams) == 1 and len(platform.sessions) == 1
    (stream,) = sessions.relay.streams.values()
    assert len(stream.viewers) == 2


async def test_a_late_viewer_starts_at_once_from_the_cached_keyframe(platform, make_camera, relay, sessions, viewers):
    camera = await make_camera()
    early = viewers()
    await early.connect(player(sessions, camera))
    await eventually(lambda: len(early.counters) >= 30, timeout=20)  # past the clip's second keyframe
    stream, track = await relay.subscribe(camera.config.device_id, camera.config.channel_ids()[0])
    frames_in = stream.stats.frames_in
    packet = await track.recv()  # served from the cache: no new frame had to arrive
    assert stream.stats.frames_in == frames_in
    assert {b & 0x1F for b in _nal_headers(bytes(packet))} >= {7, 8, 5}  # SPS, PPS and an IDR slice
    assert camera.iframe_requests == 0
    relay.unsubscribe(stream, track)


def _nal_headers(data: bytes) -> list[int]:
    return [part[0] for part in data.split(b"\x00\x00\x01")[1:] if part]


async def test_the_camera_gets_bye_only_after_the_last_viewer_and_the_grace_period(
        platform, make_camera, relay, sessions, viewers):
    camera = await make_camera()
    one, two = viewers(), viewers()
    first = await one.connect(player(sessions, camera))
    second = await two.connect(player(sessions, camera))
    await eventually(lambda: one.counters and two.counters, timeout=20)
    (call_id,) = platform.sessions
    await sessions.stop(first["session"])
    await sessions.stop(second["session"])
    assert list(platform.sessions) == [call_id]  # still pulling during the grace period
    again = viewers()
    await again.connect(player(sessions, camera))  # back within the grace period: same pull
    await eventually(lambda: again.counters, timeout=20)
    assert list(platform.sessions) == [call_id]
    await again.close()  # the browser hangs up: the connection closes, then the grace period runs
    await eventually(lambda: not platform.sessions and not camera.streams, timeout=20)
    assert not relay.streams and relay.states[-1][1] == "stopped"


async def test_an_h265_camera_is_refused_as_not_playable_and_the_pull_stops(platform, make_camera, relay, sessions):
    camera = await make_camera(codec="h265")
    with pytest.raises(NotPlayable) as refused:
        await sessions.play(camera.config.device_id, camera.config.channel_ids()[0], "v=0\r\n")
    assert refused.value.state is StreamState.NOT_PLAYABLE and "H265" in refused.value.reason
    await eventually(lambda: not camera.streams and not platform.sessions)
    assert (camera.config.channel_ids()[0], "not_playable") in relay.states and not sessions.sessions


async def test_a_viewer_keyframe_request_replays_the_cache_or_asks_the_camera(platform, make_camera, relay):
    camera = await make_camera()
    stream, track = await relay.subscribe(camera.config.device_id, camera.config.channel_ids()[0])
    before = [await track.recv() for _ in range(3)]
    cached_keyframe = stream.gop.units[0].data
    track.request_keyframe()  # what aiortc's sender does on PLI/FIR, through forward_keyframe_requests
    packet = await track.recv()
    assert bytes(packet) == cached_keyframe and packet.pts > before[-1].pts  # the timeline keeps going forward
    assert track.stats.keyframe_requests == 1 and camera.iframe_requests == 0
    stream.gop.units.clear()  # nothing cached: only the camera can help
    stream.keyframe_requested(track)
    await eventually(lambda: camera.iframe_requests == 1)
    relay.unsubscribe(stream, track)


@pytest.mark.parametrize("offer", ["", "garbage", "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n", "x" * 70_000])
async def test_bad_offers_are_refused_and_leave_nothing_behind(platform, make_camera, relay, sessions, offer):
    from video.webrtc import OfferError

    camera = await make_camera()
    with pytest.raises(OfferError):
        await sessions.play(camera.config.device_id, camera.config.channel_ids()[0], offer)
    assert not sessions.sessions
    await eventually(lambda: not platform.sessions)  # the grace period ran out: BYE


async def test_an_offline_camera_is_not_playable(platform, sessions):
    with pytest.raises(NotPlayable) as refused:
        await sessions.play("34020000001320000099", "34020000001310000001", "v=0\r\n")
    assert refused.value.state is StreamState.FAILED and "not online" in refused.value.reason
