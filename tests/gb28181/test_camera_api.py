"""The sip service inside Django: catalogs and alarms in the database and on the hub; the camera play API."""

from __future__ import annotations

import asyncio
import json
import warnings

import pytest
from asgiref.sync import sync_to_async
from django.test import AsyncClient

from dispatchd.models import Alarm, Camera
from tests.dispatchd.helpers import events  # noqa: F401 - fixture
from tests.gb28181.conftest import PASSWORD, PLATFORM_KEEPALIVE_S, eventually
from tests.gb28181.webrtc_client import WebRtcViewer
from video.gb28181 import service
from video.gb28181.directory import platform_events, stream_recorder
from video.gb28181.relay import RelaySettings
from video.gb28181.settings import GbSettings
from video.gb28181.simulator.camera import CameraConfig, SimulatedCamera
from video.gb28181.tasks import BackgroundTasks
from wall.auth import create_token

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
async def gb(monkeypatch, loopback_ice):
    gb_settings = GbSettings(sip_port=0, password=PASSWORD, keepalive_interval=PLATFORM_KEEPALIVE_S, sip_t1=0.05,
                             catalog_timeout=1.0)
    tasks = BackgroundTasks()
    svc = service.GbService(gb_settings, RelaySettings(grace=0.2, codec_timeout=3.0),
                            events=platform_events(lambda device_id: svc.platform.query_catalog(device_id)),
                            on_stream_state=stream_recorder(tasks))
    await svc.start()
    monkeypatch.setattr(service, "_current", svc)
    yield svc
    await bounded(svc.close(), "closing the GB service")
    await bounded(tasks.cancel_all(), "cancelling the stream recorder's tasks")


async def bounded(cleanup, what: str, seconds: float = 15.0) -> None:
    """Run a teardown step, but never for ever: a teardown hang (seen once in a full run) warns instead."""
    try:
        await asyncio.wait_for(cleanup, seconds)
    except TimeoutError:
        warnings.warn(f"teardown: {what} did not finish within {seconds:g} s", stacklevel=2)


@pytest.fixture
async def cameras(gb):
    started: list[SimulatedCamera] = []

    async def start(number: int = 1, **options) -> SimulatedCamera:
        # The simulator numbers channels under the first 10 digits of the device id: vary those per camera, or
        # two cameras of one test report the same channel ids and share (and race for) one camera row.
        config = CameraConfig(f"44039900{number:02d}132{number:07d}", server_port=gb.platform.port, password=PASSWORD,
                              keepalive_interval=0.05, t1=0.05, longitude=114.35, latitude=22.71, **options)
        camera = SimulatedCamera(config)
        started.append(camera)
        await camera.start()
        return camera

    yield start
    for camera in started:
        await bounded(camera.stop(), f"stopping camera {camera.config.device_id}")


class BearerClient:
    """Django's AsyncClient with a bearer token on every request."""

    def __init__(self, token: str) -> None:
        self.client, self.headers = AsyncClient(), {"Authorization": f"Bearer {token}"}

    async def post(self, path: str, body: str, **kwargs):
        return await self.client.post(path, body, content_type="application/json", headers=self.headers, **kwargs)

    async def delete(self, path: str):
        return await self.client.delete(path, headers=self.headers)


@pytest.fixture
async def client() -> BearerClient:
    return BearerClient(await sync_to_async(create_token)("commander", "test-commander"))


async def _camera_row(camera: SimulatedCamera) -> Camera:
    """The camera table row of the camera's first channel, once its catalog arrived."""
    channel = camera.config.channel_ids()[0]
    for _ in range(500):
        row = await Camera.objects.filter(gb_id=channel, device_id=camera.config.device_id).afirst()
        if row is not None:
            return row
        await asyncio.sleep(0.02)
    raise AssertionError(f"no camera row for {channel}")


async def post_offer(client: BearerClient, camera_id: int, offer: str):
    return await client.post(f"/api/cameras/{camera_id}/play", json.dumps({"sdp": offer, "type": "offer"}))


async def test_catalog_channels_land_in_the_camera_table_with_positions_and_are_published(gb, cameras, events):  # noqa: F811
    camera = await cameras(1, channels=3)
    row = await _camera_row(camera)
    await eventually(lambda: len(events.data("camera.created", "cameras")) == 3)
    rows = [c async for c in Camera.objects.filter(device_id=camera.config.device_id).order_by("gb_id")]
    assert [c.gb_id for c in rows] == camera.config.channel_ids()
    assert all(c.online and c.ptz for c in rows) and row.name == "Camera 1"
    assert (rows[1].lon, rows[1].lat) == pytest.approx((114.351, 22.711))
    await camera.stop()  # keepalives stop: the device goes offline, and with it its cameras
    await eventually(lambda: len(events.data("camera.offline", "cameras")) == 3)
    assert not await Camera.objects.filter(device_id=camera.config.device_id, online=True).aexists()


async def test_an_alarm_notify_is_answered_and_becomes_an_alarm(gb, cameras, events):  # noqa: F811
    camera = await cameras(2)
    row = await _camera_row(camera)
    response = await camera.send_alarm("Intrusion at the gate")
    assert response.status == 200
    await eventually(lambda: events.data("alarm.raised", "alarms"))
    alarm = await Alarm.objects.select_related("camera").aget()
    assert alarm.camera_id == row.id and alarm.kind == "camera_video" and alarm.severity == "major"
    assert "Intrusion at the gate" in alarm.message and alarm.lat == pytest.approx(22.71)


async def test_play_returns_a_webrtc_answer_whose_video_decodes_and_delete_stops_it(gb, cameras, client):
    camera = await cameras(3)
    row = await _camera_row(camera)
    viewer = WebRtcViewer()
    try:
        async def answerer(offer: str) -> dict:
            response = await post_offer(client, row.id, offer)
            assert response.status_code == 200, response.content
            return response.json()

        answer = await viewer.connect(answerer)
        assert answer["type"] == "answer" and answer["state"] == "live" and answer["channel_id"] == row.gb_id
        await eventually(lambda: len(viewer.counters) >= 5, timeout=20)
        response = await client.delete(f"/api/cameras/{row.id}/play/{answer['session']}")
        assert response.status_code == 200 and response.json() == {"stopped": True}
        assert (await client.delete(f"/api/cameras/{row.id}/play/{answer['session']}")).status_code == 404
    finally:
        await viewer.close()


async def test_play_refuses_h265_unknown_cameras_bad_offers_and_anonymous_callers(gb, cameras, client, events):  # noqa: F811
    camera = await cameras(4, codec="h265")
    row = await _camera_row(camera)
    response = await post_offer(client, row.id, "v=0\r\n")
    assert response.status_code == 409 and response.json()["error"] == "not_playable"
    await eventually(lambda: events.data("camera.stream", "cameras"))
    assert events.data("camera.stream", "cameras")[-1]["stream"] == "not_playable"
    assert (await Camera.objects.aget(pk=row.id)).codec == "H.265"
    assert (await post_offer(client, 999_999, "v=0\r\n")).status_code == 404
    assert (await post_offer(client, row.id, "")).status_code == 400
    h264 = await cameras(5)
    h264_row = await _camera_row(h264)
    response = await post_offer(client, h264_row.id, "not an sdp")
    assert response.status_code == 400 and response.json()["error"] == "bad_offer", response.content
    anonymous = await AsyncClient().post(f"/api/cameras/{row.id}/play", "{}", content_type="application/json")
    assert anonymous.status_code == 401


async def test_without_a_relay_in_this_process_or_a_relay_url_play_answers_409(client, settings, monkeypatch):
    monkeypatch.setattr(service, "_current", None)
    settings.WALL_GB_RELAY_URL = ""
    camera = await Camera.objects.acreate(gb_id="44039900001310000001", name="Gate")
    response = await post_offer(client, camera.id, "v=0\r\n")
    assert response.status_code == 409 and response.json()["error"] == "relay_unavailable"


async def test_a_web_process_forwards_play_to_the_sip_process_with_the_callers_credentials(
        client, settings, monkeypatch):
    seen: list[bytes] = []

    async def sip_process(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        length = int(next(line.split(b":")[1] for line in head.split(b"\r\n") if line.lower().startswith(
            b"content-length")))
        seen.append(head + await reader.readexactly(length))
        body = json.dumps({"sdp": "v=0", "type": "answer", "session": "s1", "state": "live", "codec": "h264",
                           "device_id": "d", "channel_id": "c"}).encode()
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"
                     b"Connection: close\r\n\r\n%s" % (len(body), body))
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(sip_process, "127.0.0.1", 0)
    monkeypatch.setattr(service, "_current", None)
    settings.WALL_GB_RELAY_URL = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    try:
        camera = await Camera.objects.acreate(gb_id="44039900001310000002", name="Gate")
        response = await post_offer(client, camera.id, "v=0\r\n")
        assert response.status_code == 200 and response.json()["session"] == "s1"
        (request,) = seen
        assert request.startswith(f"POST /api/cameras/{camera.id}/play ".encode())
        assert client.headers["Authorization"].encode() in request and b'"sdp": "v=0' in request
    finally:
        server.close()
