"""Running Daphne with background asyncio tasks (daemon, simulators) in the same event loop."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger("wall.server")

Task = Callable[[], Awaitable[None]]


def freeze_startup_heap() -> None:
    """Put every object alive after start-up out of the garbage collector's full collections."""
    # they then scan only what came later: otherwise ~100 ms pauses every few seconds under load
    gc.collect()
    gc.freeze()


def load_url_conf() -> None:
    """Import every module the URLconf reaches now, so that they are frozen with the start-up heap."""
    # left to the first request, the API's and the video modules' ~40,000 objects stay in the collected
    # heap, and every full collection under load walks them (40-150 ms pauses every ~7 s)
    from django.urls import get_resolver

    try:
        get_resolver().url_patterns  # noqa: B018 (the property imports the URLconf)
    except Exception:  # the first request then retries and reports it
        log.warning("the URLconf did not load at start-up; the first request will load it", exc_info=True)


def _supervised(name: str, factory: Task) -> Task:
    """Restart a background task that crashes, with a pause, so one bug never stops the wall."""

    async def run() -> None:
        while True:
            try:
                await factory()
                return
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("background task %s crashed; restarting in 5 s", name)
                await asyncio.sleep(5)

    return run


def _proxy_headers(behind_proxy: bool) -> dict[str, str]:
    """Daphne's options to take the client's address from the reverse proxy's X-Forwarded-* headers."""
    if not behind_proxy:
        return {}
    return {"proxy_forwarded_address_header": "X-Forwarded-For", "proxy_forwarded_port_header": "X-Forwarded-Port",
            "proxy_forwarded_proto_header": "X-Forwarded-Proto"}


def serve(host: str, port: int, tasks: dict[str, Task], on_ready: Callable[[], None] | None = None) -> None:
    """Serve the ASGI app on host:port until interrupted, running `tasks` beside it."""
    from daphne.endpoints import build_endpoint_description_strings
    from daphne.server import Server
    from django.conf import settings

    from wall import autobahn_logs, tcp_writes
    from wall.asgi import application

    load_url_conf()
    if settings.WALL_TCP_EAGER_WRITES:
        tcp_writes.install()
    autobahn_logs.install()
    running: list[asyncio.Task] = []

    def ready() -> None:
        freeze_startup_heap()
        loop = asyncio.get_event_loop()
        for name, factory in tasks.items():
            running.append(loop.create_task(_supervised(name, factory)(), name=name))
        if on_ready:
            on_ready()

    server = Server(
        application=application,
        endpoints=build_endpoint_description_strings(host=host, port=port),
        signal_handlers=True,
        ready_callable=ready,
        verbosity=0,
        application_close_timeout=5,
        # An incoming frame above the hub's limit gets an error frame; far above it, Daphne cuts it before
        # buffering it. Autobahn applies the message limit to outgoing messages too (a positions snapshot
        # of every worker is one frame), so that one only bounds fragmented incoming messages.
        websocket_max_frame_size=4 * settings.WALL_HUB_MAX_FRAME_BYTES + 4096,
        websocket_max_message_size=max(64 * 1024 * 1024, 4 * settings.WALL_HUB_MAX_FRAME_BYTES + 4096),
        **_proxy_headers(settings.WALL_PROXY_HEADERS),
    )
    server.run()
    for task in running:
        task.cancel()
