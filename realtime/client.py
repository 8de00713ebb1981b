"""A Python hub client: subscribes, reconnects with backoff and jitter, resumes from the last offsets.

    async with HubClient("ws://127.0.0.1:8000/ws/hub", token=token) as hub:
        hub.subscribe("cases")
        async for message in hub:
            ...  # {"op": "subscribed" | "event" | "batch" | "hello" | "error" | ...}

Every event reaches the iterator once, in offset order, across reconnects; a `subscribed`
message with `recovered: false` means events were missed and the caller reloads a snapshot.
The missed events of a `subscribed` reply are yielded one by one as `event` messages after it.
Position `batch` frames are yielded part by part, their compact items decoded into dicts
(position_items; `decode_positions=False` leaves them compact, for a caller that only counts or ignores
them); a snapshot is complete once its part equal to `parts` has come.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import websockets
from websockets.asyncio.client import ClientConnection, connect

from realtime.envelope import loads
from realtime.position_format import FORMAT
from realtime.protocol import Close


def position_items(batch: dict) -> list[dict]:
    """The items of a `batch` frame as dicts of every field in its `fields` (format 2, docs/protocol.md)."""
    if batch.get("v") != FORMAT:
        return list(batch.get("items") or [])
    fields = batch["fields"]
    states = batch.get("states") or []
    items = []
    for row in batch["items"]:
        item = dict.fromkeys(fields)
        item.update(zip(fields, row, strict=False))  # trailing nulls are left out of a row
        code = item.get("state")
        if isinstance(code, int):
            item["state"] = states[code] if 0 <= code < len(states) else None
        items.append(item)
    return items


class HubRefused(Exception):
    """The hub refused the credentials (close code 4001); reconnecting would not help."""


class HubClient:
    """A resuming subscription client of `/ws/hub`."""

    def __init__(
        self,
        url: str,
        *,
        token: str | None = None,
        auth_in_frame: bool = False,
        origin: str | None = None,
        heartbeat_s: float = 10.0,
        backoff_s: float = 0.2,
        backoff_max_s: float = 10.0,
        queue_size: int = 1000,
        decode_positions: bool = True,
    ) -> None:
        self.url = url
        self.decode_positions = decode_positions
        self.token = token
        self.auth_in_frame = auth_in_frame
        parts = urlsplit(url)
        self.origin = origin or urlunsplit(("https" if parts.scheme == "wss" else "http", parts.netloc, "", "", ""))
        self.heartbeat_s = heartbeat_s
        self.backoff_s = backoff_s
        self.backoff_max_s = backoff_max_s
        self.positions: dict[str, tuple[str, int]] = {}
        self.filters: dict[str, dict | None] = {}
        self.connects = 0
        self.close_codes: list[int] = []
        self.connected = asyncio.Event()
        self._resyncing: set[str] = set()
        self._messages: asyncio.Queue[dict | BaseException] = asyncio.Queue(queue_size)
        self._ws: ClientConnection | None = None
        self._task: asyncio.Task | None = None
        self._closing = False

    # ---- public API -----------------------------------------------------------------------

    def subscribe(self, topic: str, filter: dict | None = None) -> None:  # noqa: A002 - protocol name
        """Subscribe to `topic` (kept across reconnects)."""
        self.filters[topic] = filter
        self._send_soon(self._subscribe_frame(topic))

    def unsubscribe(self, topic: str) -> None:
        """Stop receiving `topic`."""
        self.filters.pop(topic, None)
        self.positions.pop(topic, None)
        self._send_soon({"op": "unsubscribe", "topic": topic})

    def position(self, topic: str) -> str | None:
        """The `epoch:offset` reached on `topic`, as `since` expects it."""
        where = self.positions.get(topic)
        return f"{where[0]}:{where[1]}" if where else None

    async def start(self) -> HubClient:
        """Start connecting in the background."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="hub-client")
        return self

    async def close(self) -> None:
        """Disconnect for good."""
        self._closing = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._ws is not None:
            await self._ws.close()

    def drop(self) -> None:
        """Cut the current connection abruptly, as a network failure would (it reconnects)."""
        if self._ws is not None:
            self._ws.transport.abort()

    async def send(self, message: dict) -> None:
        """Send a raw protocol message on the current connection."""
        await self.connected.wait()
        assert self._ws is not None
        await self._ws.send(json.dumps(message))

    async def __aenter__(self) -> HubClient:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def __aiter__(self) -> HubClient:
        return self

    async def __anext__(self) -> dict:
        item = await self._messages.get()
        if isinstance(item, BaseException):
            raise item
        return item

    async def next(self, timeout: float | None = None) -> dict:
        """The next message, waiting at most `timeout` seconds."""
        async with asyncio.timeout(timeout):
            return await self.__anext__()

    # ---- connection loop ------------------------------------------------------------------

    def _subscribe_frame(self, topic: str) -> dict:
        frame: dict[str, Any] = {"op": "subscribe", "topic": topic}
        if self.filters.get(topic):
            frame["filter"] = self.filters[topic]
        if since := self.position(topic):
            frame["since"] = since
        return frame

    def _send_soon(self, message: dict) -> None:
        ws = self._ws
        if ws is not None and self.connected.is_set():
            asyncio.get_running_loop().create_task(self._send_quietly(ws, message))

    @staticmethod
    async def _send_quietly(ws: ClientConnection, message: dict) -> None:
        with contextlib.suppress(websockets.ConnectionClosed, OSError):
            await ws.send(json.dumps(message))

    def _connect_url(self) -> str:
        if not self.token or self.auth_in_frame:
            return self.url
        parts = urlsplit(self.url)
        query = "&".join(q for q in (parts.query, urlencode({"token": self.token})) if q)
        return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))

    async def _run(self) -> None:
        attempt = 0
        while not self._closing:
            try:
                async with connect(
                    self._connect_url(), origin=self.origin, max_size=None, ping_interval=None, open_timeout=5
                ) as ws:
                    self._ws = ws
                    self.connects += 1
                    if self.auth_in_frame:
                        await ws.send(json.dumps({"op": "auth", "token": self.token}))
                    self._resyncing.clear()
                    for topic in list(self.filters):
                        await ws.send(json.dumps(self._subscribe_frame(topic)))
                    self.connected.set()
                    attempt = await self._pump(ws, attempt)
            except websockets.ConnectionClosed:
                pass
            except (OSError, TimeoutError, websockets.InvalidHandshake):
                pass
            finally:
                self.connected.clear()
                ws, self._ws = self._ws, None
            code = ws.close_code if ws is not None else None
            if code is not None:
                self.close_codes.append(code)
            if code == Close.UNAUTHENTICATED:
                await self._messages.put(HubRefused(ws.close_reason if ws else "refused"))
                return
            attempt += 1
            delay = min(self.backoff_max_s, self.backoff_s * 2 ** min(attempt, 16))
            await asyncio.sleep(delay * random.uniform(0.5, 1.0))

    async def _pump(self, ws: ClientConnection, attempt: int) -> int:
        beat = asyncio.get_running_loop().create_task(self._heartbeat(ws))
        try:
            while True:
                async with asyncio.timeout(3 * self.heartbeat_s):
                    raw = await ws.recv()
                message = loads(raw)
                if message.get("op") == "hello":
                    attempt = 0
                await self._handle(ws, message)
        except TimeoutError:
            await ws.close()
            return attempt
        finally:
            beat.cancel()

    async def _heartbeat(self, ws: ClientConnection) -> None:
        with contextlib.suppress(websockets.ConnectionClosed, OSError):
            while True:
                await asyncio.sleep(self.heartbeat_s)
                await ws.send('{"op":"ping"}')

    async def _handle(self, ws: ClientConnection, message: dict) -> None:
        op = message.get("op")
        if op == "ping":
            await ws.send(json.dumps({"op": "pong", "n": message.get("n")}))
        elif op == "pong":
            return
        elif op == "event":
            await self._on_event(ws, message)
        elif op == "subscribed":
            await self._on_subscribed(message)
        else:
            if op == "batch" and self.decode_positions:
                message["items"] = position_items(message)
            await self._messages.put(message)

    async def _on_subscribed(self, message: dict) -> None:
        topic = message["topic"]
        self._resyncing.discard(topic)
        missed = message.pop("missed", [])
        if not message.get("recovered"):
            self.positions[topic] = (message["epoch"], message["offset"])
            await self._messages.put(message)
            return
        await self._messages.put(message)
        for event in missed:
            await self._accept(event)
        self.positions[topic] = (message["epoch"], message["offset"])

    async def _on_event(self, ws: ClientConnection, event: dict) -> None:
        topic = event["topic"]
        if topic in self._resyncing or topic not in self.filters:
            return
        where = self.positions.get(topic)
        if where is not None and where[0] == event["epoch"] and event["offset"] > where[1] + 1:
            # a gap should never happen; ask again from where we are rather than skip events
            self._resyncing.add(topic)
            await ws.send(json.dumps(self._subscribe_frame(topic)))
            return
        await self._accept(event)

    async def _accept(self, event: dict) -> None:
        topic = event["topic"]
        where = self.positions.get(topic)
        if where is not None and where[0] == event["epoch"] and event["offset"] <= where[1]:
            return
        self.positions[topic] = (event["epoch"], event["offset"])
        await self._messages.put(event)
