"""The dispatch daemon: SLA timers, dispatch-order timeouts, offline workers and sensors, geofence dwell."""

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
    from dispatchd import dispatching
    from dispatchd.field import pipeline
    from dispatchd.sensors.offline import check_offline

    close_old_connections()
    try:
        fired = check_timers()
        fired += dispatching.check_dispatch_timeouts()
        fired += len(pipeline.sweep_offline())
        fired += pipeline.check_fence_dwell()
        fired += check_offline()
        return fired
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
                log.info("daemon tick: %d timer steps, fallbacks and alarms", fired)
        except Exception:
            log.exception("dispatch daemon tick failed; retrying")
        await asyncio.sleep(interval)
