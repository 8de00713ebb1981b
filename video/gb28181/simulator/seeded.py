"""Simulated devices for the cameras already in the database (the demo city's), so the two agree."""

from __future__ import annotations

import asyncio
import dataclasses
from collections import defaultdict

from asgiref.sync import sync_to_async

from video.gb28181.manscdp import CatalogChannel
from video.gb28181.simulator.camera import CameraConfig, SimulatedCamera


def seeded_catalogs() -> dict[str, list[CatalogChannel]]:
    """Camera rows grouped by their device (NVR or the camera itself), as catalog channels."""
    from dispatchd.models import Camera

    devices: dict[str, list[CatalogChannel]] = defaultdict(list)
    for camera in Camera.objects.order_by("gb_id"):
        device_id = camera.device_id or camera.gb_id
        devices[device_id].append(
            CatalogChannel(
                camera.gb_id, name=camera.name, manufacturer="Simulated", model="SIM-1", parent_id=device_id,
                longitude=camera.lon, latitude=camera.lat, ptz_type=1 if camera.ptz else 3,
            )
        )
    return dict(devices)


async def simulate_seeded(base: CameraConfig) -> None:
    """Run one simulated device per device of the camera table until cancelled."""
    catalogs = await sync_to_async(seeded_catalogs, thread_sensitive=False)()
    cameras: list[SimulatedCamera] = []
    try:
        for index, (device_id, channels) in enumerate(sorted(catalogs.items())):
            config = dataclasses.replace(base, device_id=device_id, catalog=tuple(channels), seed=index)
            camera = SimulatedCamera(config)
            await camera.start()
            cameras.append(camera)
        await asyncio.Event().wait()
    finally:
        for camera in cameras:
            await camera.stop()
