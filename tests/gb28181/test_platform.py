"""The platform against simulated cameras over loopback: registration, keepalive, queries, PTZ, alarms."""

from __future__ import annotations

import re

import pytest

from tests.gb28181.conftest import eventually
from video.gb28181.ptz import move, stop
from video.gb28181.simulator.camera import SimulatedCamera


@pytest.mark.parametrize("transport", ["UDP", "TCP"])
async def test_register_with_digest_answers_200_with_a_gb_date(platform, recorder, make_camera, transport):
    camera = await make_camera(transport=transport, gb_version="3.0")
    response = camera.last_register
    assert response.status == 200
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}", response.headers.get("Date"))
    assert response.headers.get("X-GB-Ver") == "3.0"
    device = platform.registry.get(camera.config.device_id)
    assert device.online and device.gb_version == "3.0"
    assert device.peer.transport == transport and device.peer.port == camera.endpoint.local_port(transport)
    assert recorder.online == [camera.config.device_id]


async def test_wrong_password_is_refused_and_repeated_failures_lock_the_device_out(platform, make_camera):
    camera = await make_camera(start=False)
    await camera.start(register=False, keepalive=False)
    assert [(await camera.register(password="wrong")).status for _ in range(3)] == [403, 403, 403]
    assert (await camera.register()).status == 403  # locked out even with the right password
    assert platform.registry.get(camera.config.device_id) is None
    other = await make_camera(2)
    assert other.registered


async def test_refresh_keeps_the_device_and_expires_zero_unregisters(platform, recorder, make_camera):
    camera = await make_camera()
    assert (await camera.register()).status == 200
    assert recorder.online == [camera.config.device_id]
    response = await camera.register(expires=0)
    assert response.status == 200 and response.headers.get("Expires") == "0"
    assert platform.registry.get(camera.config.device_id) is None
    assert recorder.offline == [(camera.config.device_id, "unregistered")]


async def test_device_is_offline_after_three_missed_keepalives(platform, recorder, make_camera):
    alive = await make_camera(1)
    silent = await make_camera(2, keepalive=False)
    await eventually(lambda: recorder.offline)
    assert recorder.offline == [(silent.config.device_id, "keepalive timeout")]
    assert platform.registry.get(alive.config.device_id).online
    await silent.send_keepalive()
    assert platform.registry.get(silent.config.device_id).online
    assert recorder.online.count(silent.config.device_id) == 2


async def test_messages_from_unregistered_devices_are_refused(platform, make_camera):
    camera = await make_camera(start=False)
    await camera.start(register=False, keepalive=False)
    response = await camera.send_keepalive()
    assert response.status == 403


async def test_catalog_arriving_in_several_messages_is_accumulated(platform, recorder, make_camera):
    camera = await make_camera(channels=7, catalog_per_message=2)
    result = await platform.query_catalog(camera.config.device_id)
    assert result.complete and result.sum_num == 7
    assert sorted(c.device_id for c in result.channels) == sorted(camera.config.channel_ids())
    assert all(c.longitude and c.latitude for c in result.channels)
    assert recorder.catalogs[0][0] == camera.config.device_id and len(recorder.catalogs[0][1]) == 7
    assert len(platform.registry.get(camera.config.device_id).channels) == 7


class ForgetfulCamera(SimulatedCamera):
    """Sends every catalog message but the last."""

    async def _send_all(self, bodies: list[bytes]) -> None:
        await super()._send_all(bodies[:-1] if len(bodies) > 1 else bodies)


async def test_incomplete_catalog_returns_what_arrived_at_the_timeout(platform, make_camera):
    camera = await make_camera(start=False, channels=5, catalog_per_message=2)
    camera.__class__ = ForgetfulCamera
    await camera.start()
    result = await platform.query_catalog(camera.config.device_id)
    assert not result.complete and len(result.channels) == 4 and result.sum_num == 5


async def test_device_info_and_status_queries(platform, make_camera):
    camera = await make_camera(channels=3)
    info = await platform.query_device_info(camera.config.device_id)
    assert info.fields["Manufacturer"] == "Simulated" and info.int_field("Channel") == 3
    status = await platform.query_device_status(camera.config.device_id)
    assert status.fields["Online"] == "ONLINE"


async def test_ptz_and_iframe_commands_reach_the_device_byte_for_byte(platform, make_camera):
    camera = await make_camera()
    channel = camera.config.channel_ids()[0]
    command = move({"left", "up"}, pan_speed=0x30, tilt_speed=0x40)
    assert await platform.ptz(camera.config.device_id, channel, command)
    assert await platform.ptz(camera.config.device_id, channel, stop())
    assert camera.ptz_commands == [command, stop()]
    assert await platform.request_iframe(camera.config.device_id, channel)
    assert camera.iframe_requests == 1


async def test_alarm_notify_reaches_the_callback(platform, recorder, make_camera):
    camera = await make_camera()
    assert (await camera.send_alarm("周界入侵")).status == 200
    (alarm,) = recorder.alarms
    assert alarm.device_id == camera.config.device_id and alarm.description == "周界入侵" and alarm.longitude


async def test_queries_to_unknown_devices_fail_clearly(platform):
    with pytest.raises(LookupError):
        await platform.query_catalog("34020000001329999999")
