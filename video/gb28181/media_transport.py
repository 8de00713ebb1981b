"""Media sockets for RTP: UDP, TCP passive (we listen) and TCP active (we connect), RFC 4571 framed on TCP.

:class:`RtpReceiver` feeds a :class:`MediaPipeline`; :class:`RtpSender` is what the simulator streams with.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Callable

from video.gb28181.pipeline import MediaPipeline
from video.gb28181.rfc4571 import FrameReader, frame
from video.gb28181.tasks import BackgroundTasks

log = logging.getLogger(__name__)

UDP = "UDP"
TCP_PASSIVE = "TCP-passive"
TCP_ACTIVE = "TCP-active"
TRANSPORTS = (UDP, TCP_PASSIVE, TCP_ACTIVE)
# Room for a keyframe burst while the event loop is busy: the default (~200 KB of skb memory, about 90
# datagrams) overflows when a few cameras' keyframes coincide. The kernel caps it at net.core.rmem_max.
UDP_RECEIVE_BUFFER = 2 * 1024 * 1024


class _DatagramSink(asyncio.DatagramProtocol):
    def __init__(self, on_datagram: Callable[[bytes], None]) -> None:
        self.on_datagram = on_datagram

    def datagram_received(self, data: bytes, addr: tuple) -> None:
        self.on_datagram(data)

    def error_received(self, exc: Exception) -> None:
        log.debug("RTP UDP error: %s", exc)


class RtpReceiver:
    """Receives one camera's RTP stream into a pipeline over the chosen transport."""

    def __init__(self, pipeline: MediaPipeline, host: str = "127.0.0.1", poll_interval: float = 0.05) -> None:
        self.pipeline = pipeline
        self.host = host
        self.poll_interval = poll_interval
        self.port = 0
        self.connected = asyncio.Event()
        self._udp: asyncio.DatagramTransport | None = None
        self._server: asyncio.Server | None = None
        self._writers: list[asyncio.StreamWriter] = []
        self._tasks = BackgroundTasks()

    def _feed(self, data: bytes) -> None:
        try:
            self.pipeline.feed(data)
        except Exception:  # a bug in one stream must not take the socket down
            log.exception("RTP pipeline failed")

    async def open(self, transport: str, port: int = 0) -> int:
        """Bind for UDP or TCP passive (returns the local port); for TCP active call `connect` later."""
        if transport == UDP:
            loop = asyncio.get_running_loop()
            udp, _ = await loop.create_datagram_endpoint(
                lambda: _DatagramSink(self._feed), local_addr=(self.host, port)
            )
            self._udp = udp  # type: ignore[assignment]
            self.port = udp.get_extra_info("sockname")[1]
            with contextlib.suppress(OSError):
                udp.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, UDP_RECEIVE_BUFFER)
            self._tasks.spawn(self._poll())
        elif transport == TCP_PASSIVE:
            self._server = await asyncio.start_server(self._serve, self.host, port)
            self.port = self._server.sockets[0].getsockname()[1]
        elif transport != TCP_ACTIVE:
            raise ValueError(f"unknown media transport {transport!r}")
        return self.port

    async def connect(self, host: str, port: int) -> None:
        """TCP active: connect to the device's media port."""
        reader, writer = await asyncio.open_connection(host, port)
        self._tasks.spawn(self._read(reader, writer))

    async def close(self) -> None:
        """Close every socket and task."""
        if self._udp is not None:
            self._udp.close()
        if self._server is not None:
            self._server.close()
        for writer in self._writers:
            writer.close()
        await self._tasks.cancel_all()

    async def _poll(self) -> None:
        while True:
            await asyncio.sleep(self.poll_interval)
            self.pipeline.poll()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._writers:  # one stream per receiver: refuse extra connections
            writer.close()
            return
        await self._read(reader, writer)

    async def _read(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.append(writer)
        self.connected.set()
        framing = FrameReader()
        try:
            with contextlib.suppress(ConnectionError):
                while data := await reader.read(65536):
                    for packet in framing.feed(data):
                        self._feed(packet)
        finally:
            self._writers.remove(writer)
            writer.close()


class RtpSender:
    """Sends RTP packets to a receiver over UDP, TCP active (we connect) or TCP passive (we accept)."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self.port = 0
        self._udp: asyncio.DatagramTransport | None = None
        self._target: tuple[str, int] | None = None
        self._server: asyncio.Server | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._accepted = asyncio.Event()

    async def open_udp(self, host: str, port: int) -> None:
        """Send datagrams to host:port."""
        loop = asyncio.get_running_loop()
        udp, _ = await loop.create_datagram_endpoint(asyncio.DatagramProtocol, local_addr=(self.host, 0))
        self._udp = udp  # type: ignore[assignment]
        self.port = udp.get_extra_info("sockname")[1]
        self._target = (host, port)

    async def connect_tcp(self, host: str, port: int) -> None:
        """Connect to a receiver that listens (its SDP said setup:passive)."""
        _, self._writer = await asyncio.open_connection(host, port)

    async def listen_tcp(self) -> int:
        """Listen for the receiver to connect (its SDP said setup:active); returns our port."""
        self._server = await asyncio.start_server(self._accept, self.host, 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def wait_connected(self, timeout: float) -> bool:
        """For TCP passive: wait until the receiver connected."""
        if self._writer is not None or self._udp is not None:
            return True
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._accepted.wait(), timeout)
        return self._writer is not None

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._writer is not None:
            writer.close()
            return
        self._writer = writer
        self._accepted.set()

    async def send(self, packets: list[bytes]) -> bool:
        """Send packets (framed on TCP); returns False once the connection is gone."""
        if self._udp is not None and self._target is not None:
            for packet in packets:
                self._udp.sendto(packet, self._target)
            return True
        if self._writer is None or self._writer.is_closing():
            return False
        self._writer.write(b"".join(frame(packet) for packet in packets))
        try:
            await self._writer.drain()
        except ConnectionError:
            return False
        return True

    async def close(self) -> None:
        """Close the sockets."""
        if self._udp is not None:
            self._udp.close()
        if self._writer is not None:
            self._writer.close()
        if self._server is not None:
            self._server.close()
