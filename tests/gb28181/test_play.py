"""Live play end to end: INVITE over each transport, frames decoded, BYE, H.265 refusal, bad networks."""

from __future__ import annotations

import pytest

from tests.gb28181.conftest import eventually
from tests.gb28181.media import Decoder
from video.gb28181.platform import PlayError
from video.gb28181.ps_mux import MuxOptions
from video.gb28181.simulator.camera import SimulatedCamera
from video.gb28181.sip.dialog import build_request, build_response


async def play(platform, camera, transport: str, **kwargs):
    decoder = Decoder()
    session = await platform.play(camera.config.device_id, camera.config.channel_ids()[0], transport, decoder, **kwargs)
    return session, decoder


@pytest.mark.parametrize("sip", ["UDP", "TCP"])
@pytest.mark.parametrize("media", ["UDP", "TCP-passive", "TCP-active"])
async def test_invite_streams_decodable_frames_until_bye(platform, make_camera, sip, media):
    camera = await make_camera(transport=sip)
    session, decoder = await play(platform, camera, media)
    assert session.call_id in platform.sessions and session.ssrc > 0
    await eventually(lambda: len(decoder.counters) >= 10)
    assert decoder.errors == 0
    assert decoder.counters[:10] == list(range(10))
    assert session.playable is True
    await session.stop()
    assert session.call_id not in platform.sessions
    await eventually(lambda: not camera.streams)


async def test_device_hanging_up_closes_the_session(platform, make_camera):
    camera = await make_camera()
    session, decoder = await play(platform, camera, "UDP")
    await eventually(lambda: decoder.counters)
    (call_id,) = camera.streams
    stream = camera.streams.pop(call_id)
    await stream.stop()
    response = await camera.endpoint.request(_bye_from_device(camera, call_id, session), camera.server)
    assert response.status == 200
    assert session.closed.is_set() and not platform.sessions


def _bye_from_device(camera, call_id, session):
    return build_request(
        "BYE", f"sip:{session.dialog.local.uri.user}@127.0.0.1", from_addr=str(session.dialog.remote),
        to_addr=str(session.dialog.local), via_host="127.0.0.1", via_port=camera.endpoint.udp_port, transport="UDP",
        call_id=call_id, cseq=99,
    )


async def test_h265_camera_is_reported_not_playable(platform, make_camera):
    camera = await make_camera(codec="h265")
    codecs: list[str] = []
    session, decoder = await play(platform, camera, "UDP", on_codec=codecs.append)
    await eventually(lambda: codecs)
    assert codecs == ["h265"] and session.playable is False and decoder.units == []
    await session.stop()


@pytest.mark.parametrize(
    "options",
    [
        {"mux": MuxOptions(psm=False, stuffing=7, zero_pes_length=True, marker_bits=False, pes_payload=600)},
        {"loss": 0.02, "reorder": 0.2},
    ],
    ids=["mux misbehaviour", "udp loss and reorder"],
)
async def test_misbehaving_cameras_still_give_decodable_frames(platform, make_camera, options):
    camera = await make_camera(**options)
    session, decoder = await play(platform, camera, "UDP")
    await eventually(lambda: len(decoder.counters) >= 5)
    assert decoder.errors == 0
    await session.stop()


class BusyCamera(SimulatedCamera):
    """Refuses every INVITE."""

    async def _invite(self, request):
        return build_response(request, 486, "Busy Here")


async def test_the_device_refusing_the_invite_raises_play_error(platform, make_camera):
    camera = await make_camera(start=False)
    camera.__class__ = BusyCamera
    await camera.start()
    with pytest.raises(PlayError, match="486"):
        await platform.play(camera.config.device_id, camera.config.channel_ids()[0], "UDP", Decoder())
    assert not platform.sessions
    with pytest.raises(ValueError):
        await platform.play(camera.config.device_id, camera.config.channel_ids()[0], "bogus", Decoder())
