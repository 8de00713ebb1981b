"""The dispatch daemon: fires SLA timers (and, as they land, the other periodic rules)."""

from __future__ import annotations

import asyncio
import logging

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import close_old_connections

from dispatchd.timers import check_timers

log = logging.getLogger("dispatchd")


def tick() -> int:
    """One pass over every periodic rule; returns how many things fired."""
    close_old_connections()
    try:
        return check_timers()
    finally:
        close_old_connections()


async def run_daemon(interval: float | None = None) -> None:
    """Run `tick()` forever, every `interval` seconds."""
    interval = interval or settings.WALL_DAEMON_INTERVAL_S
    log.info("dispatch daemon running every %.1f s", interval)
    while True:
        try:
            fired = await sync_to_async(tick, thread_sensitive=False)()
            if fired:
                log.info("fired %d SLA timer steps", fired)
        except Exception:
            log.exception("dispatch daemon tick failed; retrying")
        await asyncio.sleep(interval)
