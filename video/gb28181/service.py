"""The `sip` process: GB/T 28181 platform + camera relay + WebRTC viewer sessions, wired to Django.

Embedded (`wall demo`): :func:`run_sip` runs as a task inside the web process, so the camera API calls
:func:`current` directly. Production: `wall sip` serves the same Django app (Daphne, on
``WALL_GB_HTTP_HOST:WALL_GB_HTTP_PORT``, loopback by default) with :func:`run_sip` inside it; `web`
processes have no relay and forward ``/api/cameras/{id}/play…`` to ``WALL_GB_RELAY_URL`` (that address)
with the caller's own credentials (:func:`forward`), returning the sip process's answer as it is.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from django.conf import settings

from video.calls import service as calls_service
from video.gb28181.directory import platform_events, stream_recorder
from video.gb28181.gbservice import GbService, RelayRefused
from video.gb28181.relay import RelaySettings
from video.gb28181.settings import GbSettings
from video.gb28181.tasks import BackgroundTasks
from video.webrtc import use_ice_addresses

__all__ = ["GbService", "RelayRefused", "current", "forward", "gb_settings", "relay_settings", "run_sip"]

log = logging.getLogger(__name__)


def gb_settings() -> GbSettings:
    """The platform's settings from Django settings (WALL_GB_*)."""
    return GbSettings(
        platform_id=settings.WALL_GB_PLATFORM_ID, domain=settings.WALL_GB_DOMAIN, host=settings.WALL_GB_HOST,
        sip_port=settings.WALL_GB_SIP_PORT, media_host=settings.WALL_GB_MEDIA_HOST,
        password=settings.WALL_GB_PASSWORD, keepalive_interval=settings.WALL_GB_KEEPALIVE_S,
    )


def relay_settings() -> RelaySettings:
    """The relay's settings from Django settings (WALL_GB_*)."""
    return RelaySettings(grace=settings.WALL_GB_GRACE_S, transport=settings.WALL_GB_MEDIA_TRANSPORT)


_current: GbService | None = None


def current() -> GbService | None:
    """The service running in this process (None in a `web` process of a production deployment)."""
    return _current


async def run_sip() -> None:
    """Run the GB/T 28181 platform and relay until cancelled (the `sip` process, or a task of `wall demo`)."""
    global _current
    use_ice_addresses([a.strip() for a in settings.WALL_GB_ICE_HOSTS.split(",") if a.strip()])
    tasks = BackgroundTasks()
    events = platform_events(lambda device_id: service.platform.query_catalog(device_id))  # bound once built
    service = GbService(
        gb_settings(), relay_settings(), events=events,
        on_stream_state=stream_recorder(tasks), max_viewers=settings.WALL_GB_MAX_VIEWERS,
    )
    await service.start()
    _current = service
    log.info("GB/T 28181 platform %s listening on %s:%d", settings.WALL_GB_PLATFORM_ID, settings.WALL_GB_HOST,
             service.platform.port)
    try:
        await asyncio.Event().wait()
    finally:
        _current = None
        with contextlib.suppress(Exception):
            await calls_service.shutdown()  # calls and sessions live beside the relay in this process
        with contextlib.suppress(Exception):
            await service.close()
        await tasks.cancel_all()


async def forward(method: str, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
    """Send an API request on to the sip process at WALL_GB_RELAY_URL; its status and JSON body.

    No relay configured, none answering, or one failing is RelayRefused 409 ``relay_unavailable``.
    """
    import httpx

    base = settings.WALL_GB_RELAY_URL.rstrip("/")
    if not base:
        raise RelayRefused(409, "relay_unavailable", "no camera relay runs in this process and none is configured")
    try:
        async with httpx.AsyncClient(timeout=settings.WALL_GB_RELAY_TIMEOUT_S) as client:
            response = await client.request(method, base + path, content=body, headers=headers)
    except httpx.HTTPError as exc:
        raise RelayRefused(409, "relay_unavailable", f"the camera relay did not answer: {exc}"[:300]) from exc
    if response.status_code >= 500:
        raise RelayRefused(409, "relay_unavailable", f"the camera relay failed with {response.status_code}")
    return response.status_code, response.content
