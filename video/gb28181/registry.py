"""Registered devices and the callbacks through which the rest of the house learns about them.

The platform calls :class:`PlatformEvents` callbacks (plain functions or coroutines); the lead wires them
to the database and the hub. Nothing here knows about Django.
"""

from __future__ import annotations

import inspect
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from video.gb28181.manscdp import CatalogChannel
from video.gb28181.sip.transport import Peer
from video.gb28181.tasks import BackgroundTasks

log = logging.getLogger(__name__)


@dataclass
class Device:
    """A registered device (an IPC or NVR) and where to reach it."""

    device_id: str
    peer: Peer
    contact: str
    expires_at: float
    last_seen: float
    online: bool = True
    gb_version: str = "2.0"
    channels: dict[str, CatalogChannel] = field(default_factory=dict)


Callback = Callable[..., Any]


@dataclass
class PlatformEvents:
    """Optional callbacks: online(device), offline(device, reason), catalog(device_id, channels), alarm(Alarm)."""

    on_device_online: Callback | None = None
    on_device_offline: Callback | None = None
    on_catalog: Callback | None = None
    on_alarm: Callback | None = None
    _tasks: BackgroundTasks = field(default_factory=BackgroundTasks, repr=False)

    def emit(self, name: str, *args: object) -> None:
        """Call one callback; coroutines run as tasks; exceptions are logged, never raised."""
        callback = getattr(self, name)
        if callback is None:
            return
        try:
            result = callback(*args)
        except Exception:
            log.exception("GB28181 callback %s failed", name)
            return
        if inspect.iscoroutine(result):
            self._tasks.spawn(result)


class DeviceRegistry:
    """Devices by id, with registration expiry and keepalive tracking."""

    def __init__(self, events: PlatformEvents, offline_after: float, clock: Callable[[], float] = time.monotonic):
        self.events = events
        self.offline_after = offline_after
        self.clock = clock
        self.devices: dict[str, Device] = {}

    def get(self, device_id: str) -> Device | None:
        """A registered device, online or not."""
        return self.devices.get(device_id)

    def register(self, device_id: str, peer: Peer, contact: str, expires: int, gb_version: str) -> Device:
        """Record a successful REGISTER (new or refresh); remembers the source address for NAT."""
        now = self.clock()
        device = self.devices.get(device_id)
        if device is None:
            device = self.devices[device_id] = Device(device_id, peer, contact, now + expires, now, False, gb_version)
        device.peer, device.contact, device.expires_at, device.gb_version = peer, contact, now + expires, gb_version
        self.seen(device, peer)
        return device

    def seen(self, device: Device, peer: Peer) -> None:
        """The device spoke (keepalive or other message): it is online at that address."""
        device.last_seen = self.clock()
        device.peer = peer
        if not device.online:
            device.online = True
            self.events.emit("on_device_online", device)

    def unregister(self, device_id: str) -> None:
        """REGISTER with Expires: 0."""
        device = self.devices.pop(device_id, None)
        if device is not None and device.online:
            device.online = False
            self.events.emit("on_device_offline", device, "unregistered")

    def check(self) -> list[Device]:
        """Mark devices offline after missed keepalives and drop expired registrations; returns those gone offline."""
        now = self.clock()
        gone = []
        for device in list(self.devices.values()):
            expired = now >= device.expires_at
            if device.online and (expired or now - device.last_seen > self.offline_after):
                device.online = False
                gone.append(device)
                self.events.emit("on_device_offline", device, "expired" if expired else "keepalive timeout")
            if expired:
                del self.devices[device.device_id]
        return gone
