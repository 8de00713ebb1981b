"""A relay camera joins a running session as a participant: everyone gets its video, as the camera sent it."""

from __future__ import annotations

import pytest

from tests.calls.client import Peer
from tests.calls.conftest import COMMANDER, worker
from tests.gb28181.conftest import eventually, make_camera, platform, recorder  # noqa: F401 - fixtures
from video.calls.model import Kind
from video.calls.sessions import CallManager, Invitee
from video.gb28181.relay import Relay, RelaySettings

CAMERA = (320, 240)


@pytest.fixture
async def relay(platform):  # noqa: F811 - the fixture above
    relay = Relay(platform, RelaySettings(grace=0.2, codec_timeout=3.0))
    yield relay
    await relay.close()


async def test_a_camera_added_later_reaches_every_person_and_leaves_cleanly(relay, make_camera, call_settings,  # noqa: F811
                                                                           published):
    camera = await make_camera(1)
    await eventually(lambda: camera.config.device_id in relay.platform.registry.devices)
    manager = CallManager(call_settings, published, relay=lambda: relay)
    commander, field = Peer(size=(256, 192), slots=2), Peer(size=(384, 288), slots=2)
    try:
        session, joined = await manager.create(COMMANDER, Kind.SESSION, [Invitee(worker_id=3)], await commander.offer())
        await commander.apply(joined)
        await field.apply(await manager.join(session.id, worker(3), await field.offer()))
        seat = await manager.add_camera(session.id, COMMANDER, 1, camera.config.device_id,
                                        camera.config.channel_ids()[0], "Gate camera")
        await eventually(lambda: len(commander.from_size(CAMERA).counters) > 10
                         and len(field.from_size(CAMERA).counters) > 10)
        assert seat.describe()["sources"]["video"]["codec"] == "video/h264"
        assert session.transcoded() == []

        await manager.remove(session.id, COMMANDER, seat.id)
        assert seat.camera is None and seat.seat == "left"
        await eventually(lambda: not relay.streams)  # BYE after the relay's grace period
        assert session.state == "active"
    finally:
        await commander.close()
        await field.close()
        await manager.close()
