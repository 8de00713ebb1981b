"""The baseline of `wall bench hub`: plain Channels fan-out, one `group_send` per event.

Served by Daphne (`daphne bench.hub_baseline:application`) with the Redis channel layer of
wall.settings. Every WebSocket joins one group and forwards each group message as one text frame.
"""

from __future__ import annotations

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wall.settings")
django.setup()

from channels.generic.websocket import AsyncWebsocketConsumer  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import path  # noqa: E402

GROUP = "bench-hub"
MESSAGE_TYPE = "bench.frame"


class Forwarder(AsyncWebsocketConsumer):
    """Joins the bench group and sends every message of it as a frame."""

    async def connect(self) -> None:
        """Join the group, then accept."""
        await self.channel_layer.group_add(GROUP, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        """Leave the group."""
        await self.channel_layer.group_discard(GROUP, self.channel_name)

    async def bench_frame(self, message: dict) -> None:
        """Forward one group message."""
        await self.send(text_data=message["text"])


application = ProtocolTypeRouter({"websocket": URLRouter([path("ws/baseline", Forwarder.as_asgi())])})
