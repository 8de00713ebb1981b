"""Fixtures for the GB/T 28181 tests: a platform on loopback with short timers, and simulated cameras."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from video.gb28181.platform import GbPlatform
from video.gb28181.registry import PlatformEvents
from video.gb28181.settings import GbSettings
from video.gb28181.simulator.camera import CameraConfig, SimulatedCamera

PASSWORD = "s3cret"
PLATFORM_KEEPALIVE_S = 0.5  # a device is offline after 3 missed: 1.5 s, slack for a loaded test machine


@dataclass
class Recorder:
    """Collects platform callbacks."""

    online: list[str] = field(default_factory=list)
    offline: list[tuple[str, str]] = field(default_factory=list)
    catalogs: list[tuple[str, list]] = field(default_factory=list)
    alarms: list = field(default_factory=list)

    def events(self) -> PlatformEvents:
        return PlatformEvents(
            on_device_online=lambda d: self.online.append(d.device_id),
            on_device_offline=lambda d, reason: self.offline.append((d.device_id, reason)),
            on_catalog=lambda device_id, channels: self.catalogs.append((device_id, channels)),
            on_alarm=self.alarms.append,
        )


async def eventually(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """Wait until a condition holds (the timeout only guards against a hang)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
async def platform(recorder: Recorder):
    settings = GbSettings(
        sip_port=0, password=PASSWORD, keepalive_interval=PLATFORM_KEEPALIVE_S, sip_t1=0.05, request_timeout=2.0,
        catalog_timeout=1.0, lockout_failures=3,
    )
    server = GbPlatform(settings, recorder.events())
    await server.start()
    yield server
    await server.close()


@pytest.fixture
async def make_camera(platform: GbPlatform):
    cameras: list[SimulatedCamera] = []

    async def make(number: int = 1, *, start: bool = True, keepalive: bool = True, **options) -> SimulatedCamera:
        options.setdefault("password", PASSWORD)
        config = CameraConfig(f"3402000000132{number:07d}", server_port=platform.port, keepalive_interval=0.05,
                              t1=0.05, **options)
        camera = SimulatedCamera(config)
        cameras.append(camera)
        if start:
            await camera.start(keepalive=keepalive)
        return camera

    yield make
    for camera in cameras:
        await camera.stop()
