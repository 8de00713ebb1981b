"""A minimal HTTP/1.1 server for an ASGI app, in the test's own event loop (one request per connection).

The browser test needs the real API (Django, ASGI) in the same loop as the call manager and the aiortc
peers, which Daphne (Twisted) and Django's threaded live server cannot give.
"""

from __future__ import annotations

import asyncio
import contextlib
from urllib.parse import urlsplit


class AsgiHttpServer:
    """Serves `app` on 127.0.0.1 at a free port."""

    def __init__(self, app) -> None:
        self.app = app
        self.server: asyncio.Server | None = None
        self.port = 0

    async def start(self) -> AsgiHttpServer:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, ValueError, asyncio.IncompleteReadError):
            method, target, _ = (await reader.readline()).decode("latin-1").split(" ", 2)
            headers: list[tuple[bytes, bytes]] = []
            while (line := await reader.readline()) not in (b"\r\n", b"\n", b""):
                name, _, value = line.decode("latin-1").partition(":")
                headers.append((name.strip().lower().encode(), value.strip().encode("latin-1")))
            length = int(dict(headers).get(b"content-length", b"0"))
            body = await reader.readexactly(length) if length else b""
            url = urlsplit(target)
            scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
                     "scheme": "http", "path": url.path, "raw_path": url.path.encode(),
                     "query_string": url.query.encode(), "root_path": "", "headers": headers,
                     "client": ("127.0.0.1", 0), "server": ("127.0.0.1", self.port)}
            sent = False

            async def receive() -> dict:
                nonlocal sent
                if sent:
                    await asyncio.Event().wait()
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}

            async def send(message: dict) -> None:
                if message["type"] == "http.response.start":
                    writer.write(f"HTTP/1.1 {message['status']} -\r\n".encode())
                    for name, value in message.get("headers", []):
                        if name.lower() not in (b"connection", b"transfer-encoding"):
                            writer.write(name + b": " + value + b"\r\n")
                    writer.write(b"Connection: close\r\n\r\n")
                elif message["type"] == "http.response.body":
                    writer.write(message.get("body", b""))

            await self.app(scope, receive, send)
            await writer.drain()
        writer.close()

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
