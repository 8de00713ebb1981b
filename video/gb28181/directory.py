"""What the platform learns, written to the database and announced on the hub.

Catalog channels become :class:`~dispatchd.models.Camera` rows (position from Longitude/Latitude,
online from Status); devices going on/offline switch their cameras; Alarm notifies become
:class:`~dispatchd.models.Alarm` rows; relay stream states update the camera's codec and playability.
Every change is published after commit on ``cameras`` / ``alarms``. All functions here are synchronous
(Django ORM); :func:`platform_events` wraps them for the asyncio platform with
``database_sync_to_async``, which closes stale connections around each call, so the `sip` process gets a
fresh connection after PostgreSQL restarts.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable
from typing import Any

from channels.db import database_sync_to_async
from django.db import transaction

from dispatchd.events import publish_on_commit
from dispatchd.models import Alarm, Camera
from video.gb28181.manscdp import Alarm as AlarmNotify
from video.gb28181.manscdp import CatalogChannel
from video.gb28181.registry import Device, PlatformEvents
from video.gb28181.relay import CameraStream
from video.gb28181.tasks import BackgroundTasks

_GB_ID = re.compile(r"^\d{20}$")
CAMERA_TYPES = {"131", "132"}  # GB/T 28181 type codes of cameras and IPCs (digits 11-13 of the id)
CODEC_NAMES = {"h264": "H.264", "h265": "H.265"}
ALARM_SEVERITY = {1: "major", 2: "high", 3: "normal", 4: "low"}  # AlarmPriority 1 (一级) … 4 (四级)
ALARM_METHODS = {1: "phone", 2: "device", 3: "sms", 4: "gps", 5: "video", 6: "device_fault", 7: "other"}


def is_camera_id(code: str) -> bool:
    """Whether a catalog id is a camera channel (20 digits, type 131 or 132)."""
    return bool(_GB_ID.match(code)) and code[10:13] in CAMERA_TYPES


def camera_event(camera: Camera, **extra: Any) -> dict[str, Any]:
    """The data of a `camera.*` event."""
    return {"id": camera.id, "gb_id": camera.gb_id, "device_id": camera.device_id, "name": camera.name,
            "lat": camera.lat, "lon": camera.lon, "grid_id": camera.grid_id, "online": camera.online,
            "codec": camera.codec, "ptz": camera.ptz, **extra}


def _grid_id(lat: float | None, lon: float | None) -> int | None:
    if lat is None or lon is None:
        return None
    from dispatchd.geo.gridindex import locate

    try:
        return locate(lat, lon).grid_id
    except Exception:  # no grid loaded, or a position far outside it
        return None


def _position(channel: CatalogChannel) -> tuple[float | None, float | None]:
    lat, lon = channel.latitude, channel.longitude
    if lat is None or lon is None or not (-90 <= lat <= 90 and -180 <= lon <= 180) or (lat == 0 and lon == 0):
        return None, None
    return lat, lon


def save_catalog(device_id: str, channels: list[CatalogChannel]) -> list[Camera]:
    """Create or update a camera row per camera channel of the catalog; publish camera.created/updated."""
    saved = []
    with transaction.atomic():
        for channel in channels:
            if not is_camera_id(channel.device_id):
                continue
            lat, lon = _position(channel)
            values: dict[str, Any] = {
                "device_id": device_id if _GB_ID.match(device_id) else "",
                "online": channel.status.strip().upper() in ("ON", "ONLINE"),
                "ptz": channel.ptz_type in (1, 2, 4, 5),  # 1 dome, 2 half-dome, 4/5 PTZ bullet (GB/T 28181-2016 A.2)
            }
            if channel.name:
                values["name"] = channel.name[:64]
            if lat is not None:
                values.update(lat=lat, lon=lon, grid_id=_grid_id(lat, lon))
            camera, created = Camera.objects.update_or_create(
                gb_id=channel.device_id, defaults=values, create_defaults={"name": channel.device_id, **values}
            )
            publish_on_commit("cameras", "camera.created" if created else "camera.updated", camera_event(camera))
            saved.append(camera)
    return saved


def _cameras_of(device_id: str):
    return Camera.objects.filter(device_id=device_id) | Camera.objects.filter(gb_id=device_id)


def set_device_online(device_id: str, online: bool, reason: str = "") -> int:
    """Switch every camera of a device on or offline; publish camera.online / camera.offline; how many changed."""
    event = "camera.online" if online else "camera.offline"
    changed = 0
    with transaction.atomic():
        for camera in _cameras_of(device_id).exclude(online=online):
            camera.online = online
            camera.save(update_fields=["online"])
            publish_on_commit("cameras", event, camera_event(camera, reason=reason))
            changed += 1
    return changed


def save_alarm(notify: AlarmNotify) -> Alarm:
    """An Alarm notify as a raised alarm (linked to the camera when the id is one); publish alarm.raised."""
    camera = _cameras_of(notify.device_id).order_by("id").first()
    lat, lon = notify.latitude, notify.longitude
    if (lat is None or lon is None or (lat == 0 and lon == 0)) and camera is not None:
        lat, lon = camera.lat, camera.lon
    method = ALARM_METHODS.get(notify.method or 0, "other")
    text = notify.description or f"{method} alarm"
    with transaction.atomic():
        alarm = Alarm.objects.create(
            kind=f"camera_{method}", severity=ALARM_SEVERITY.get(notify.priority or 0, "normal"),
            message=f"{camera.name if camera else notify.device_id}: {text}"[:200],
            camera=camera, lat=lat, lon=lon,
        )
        publish_on_commit("alarms", "alarm.raised", {
            "id": alarm.id, "kind": alarm.kind, "severity": alarm.severity, "message": alarm.message,
            "camera_id": camera.id if camera else None, "device_id": notify.device_id, "lat": lat, "lon": lon,
            "alarm_type": notify.alarm_type, "time": notify.time,
        })
    return alarm


def save_stream_state(channel_id: str, state: str, codec: str | None, reason: str) -> None:
    """Record a relay stream's codec on its camera and publish camera.stream (state: live, not_playable, …)."""
    with transaction.atomic():
        camera = Camera.objects.filter(gb_id=channel_id).first()
        if camera is None:
            return
        name = CODEC_NAMES.get(codec or "", camera.codec)
        if name != camera.codec:
            camera.codec = name
            camera.save(update_fields=["codec"])
        publish_on_commit("cameras", "camera.stream", camera_event(camera, stream=state, reason=reason,
                                                                   playable=codec in (None, "h264")))


def stream_recorder(tasks: BackgroundTasks) -> Callable[[CameraStream], None]:
    """A relay state callback that records each stream state change (in the background)."""

    def record(stream: CameraStream) -> None:
        save = database_sync_to_async(save_stream_state)
        tasks.spawn(save(stream.channel_id, stream.state.value, stream.codec, stream.reason))

    return record


def platform_events(query_catalog: Callable[[str], Any]) -> PlatformEvents:
    """Platform callbacks writing to the database; a device coming online is asked for its catalog."""

    async def online(device: Device) -> None:
        await database_sync_to_async(set_device_online)(device.device_id, True)
        with contextlib.suppress(LookupError):  # gone again already
            await query_catalog(device.device_id)

    async def offline(device: Device, reason: str) -> None:
        await database_sync_to_async(set_device_online)(device.device_id, False, reason)

    async def catalog(device_id: str, channels: list[CatalogChannel]) -> None:
        await database_sync_to_async(save_catalog)(device_id, channels)

    async def alarm(notify: AlarmNotify) -> None:
        await database_sync_to_async(save_alarm)(notify)

    return PlatformEvents(on_device_online=online, on_device_offline=offline, on_catalog=catalog, on_alarm=alarm)
