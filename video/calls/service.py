"""The call service of this process, wired to Django settings, the hub, the camera relay and case timelines.

Media must run where the camera relay runs: in `wall demo` (one process) and in the production `sip`
process. A production `web` process (``WALL_GB_RELAY_URL`` set, no relay of its own) forwards the call
API there, as the camera play API does; :func:`runs_here` tells which.
"""

from __future__ import annotations

import asyncio

from django.conf import settings

from realtime import apublish
from video.calls import config, timeline
from video.calls.sessions import CallManager
from video.gb28181 import service as gb_service
from video.gb28181.relay import Relay

_current: CallManager | None = None
_loop: asyncio.AbstractEventLoop | None = None


def runs_here() -> bool:
    """Whether this process runs the call media (it has the relay, or no relay elsewhere is configured)."""
    return gb_service.current() is not None or not settings.WALL_GB_RELAY_URL


def _relay() -> Relay | None:
    gb = gb_service.current()
    return gb.relay if gb is not None else None


def current() -> CallManager:
    """The call manager of this process and event loop (created on first use)."""
    global _current, _loop
    loop = asyncio.get_running_loop()
    if _current is None or _loop is not loop:
        _current = CallManager(config.from_django(settings), apublish, on_recorded=timeline.on_recorded,
                               relay=_relay)
        _loop = loop
    return _current


def use(manager: CallManager | None) -> None:
    """Put a given manager in place (tests), or forget the current one (None)."""
    global _current, _loop
    _current = manager
    _loop = asyncio.get_running_loop() if manager is not None else None


async def shutdown() -> None:
    """End every call of this process."""
    if _current is not None:
        await _current.close()
    use(None)
