"""An asyncio SIP endpoint over UDP and TCP: serves requests, sends requests and matches responses.

Server side, retransmitted requests are answered from a small cache; client side, requests over UDP are
retransmitted (RFC 3261 timer A/B style) until a response arrives. Responses go back to the address the
request came from (what NAT traversal needs), not to the Via sent-by.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from video.gb28181.sip.dialog import build_response
from video.gb28181.sip.headers import parse_via
from video.gb28181.sip.message import SipParseError, SipRequest, SipResponse, SipStreamParser, parse_message
from video.gb28181.tasks import BackgroundTasks, wait_done

log = logging.getLogger(__name__)

MAX_INFLIGHT_REQUESTS = 512
RESPONSE_CACHE_SIZE = 256
T2 = 4.0


@dataclass(frozen=True)
class Peer:
    """Where a message came from or goes to: transport ('UDP' or 'TCP'), host and port."""

    transport: str
    host: str
    port: int


RequestHandler = Callable[[SipRequest, Peer], Awaitable[SipResponse | None]]


class SipTimeout(Exception):
    """No final response arrived in time."""


class _UdpProtocol(asyncio.DatagramProtocol):
    def __init__(self, endpoint: SipEndpoint) -> None:
        self.endpoint = endpoint

    def datagram_received(self, data: bytes, addr: tuple) -> None:
        self.endpoint._on_bytes(data, Peer("UDP", addr[0], addr[1]))

    def error_received(self, exc: Exception) -> None:
        log.debug("SIP UDP error: %s", exc)


def _transaction_key(message: SipRequest | SipResponse) -> tuple[str, str]:
    vias = message.headers.get_all("Via")
    branch = parse_via(vias[0]).branch if vias else ""
    return branch, message.cseq[1]


class SipEndpoint:
    """One SIP user agent's transports (a UDP socket, a TCP listener and TCP connections)."""

    def __init__(self, handler: RequestHandler, *, host: str = "127.0.0.1", t1: float = 0.5) -> None:
        self.handler = handler
        self.host = host
        self.t1 = t1
        self.udp_port = 0
        self.tcp_port = 0
        self._udp: asyncio.DatagramTransport | None = None
        self._tcp_server: asyncio.Server | None = None
        self._connections: dict[Peer, asyncio.StreamWriter] = {}
        self._pending: dict[tuple[str, str], asyncio.Future[SipResponse]] = {}
        self._provisional: set[tuple[str, str]] = set()
        self._answered: OrderedDict[tuple[str, str, Peer], SipResponse | None] = OrderedDict()
        self._tasks = BackgroundTasks()

    async def listen_udp(self, port: int = 0) -> int:
        """Bind the UDP socket; returns the bound port."""
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(lambda: _UdpProtocol(self), local_addr=(self.host, port))
        self._udp = transport  # type: ignore[assignment]
        self.udp_port = transport.get_extra_info("sockname")[1]
        return self.udp_port

    async def listen_tcp(self, port: int = 0) -> int:
        """Start the TCP listener; returns the bound port."""
        self._tcp_server = await asyncio.start_server(self._serve_tcp, self.host, port)
        self.tcp_port = self._tcp_server.sockets[0].getsockname()[1]
        return self.tcp_port

    async def connect_tcp(self, host: str, port: int) -> Peer:
        """Open a TCP connection to a remote endpoint; returns its peer for `send`/`request`."""
        reader, writer = await asyncio.open_connection(host, port)
        self.tcp_port = writer.get_extra_info("sockname")[1]
        peer = Peer("TCP", host, port)
        self._connections[peer] = writer
        self._tasks.spawn(self._read_tcp(reader, writer, peer))
        return peer

    def local_port(self, transport: str) -> int:
        """Our port for a transport (what goes into Via and Contact)."""
        return self.tcp_port if transport == "TCP" else self.udp_port

    def is_connected(self, peer: Peer) -> bool:
        """Whether a message to this peer can be sent now."""
        return self._udp is not None if peer.transport == "UDP" else peer in self._connections

    def send(self, message: SipRequest | SipResponse, peer: Peer) -> bool:
        """Send a message without waiting; returns False when there is no way to reach the peer."""
        data = message.to_bytes()
        if peer.transport == "UDP":
            if self._udp is None:
                return False
            self._udp.sendto(data, (peer.host, peer.port))
            return True
        writer = self._connections.get(peer)
        if writer is None or writer.is_closing():
            return False
        writer.write(data)
        return True

    async def request(self, request: SipRequest, peer: Peer, timeout: float | None = None) -> SipResponse:
        """Send a request and return its final response; raises SipTimeout."""
        key = _transaction_key(request)
        future: asyncio.Future[SipResponse] = asyncio.get_running_loop().create_future()
        self._pending[key] = future
        deadline = asyncio.get_running_loop().time() + (timeout if timeout is not None else 64 * self.t1)
        interval = self.t1
        try:
            if not self.send(request, peer):
                raise SipTimeout(f"no transport to {peer}")
            while True:
                remaining = deadline - asyncio.get_running_loop().time()
                if remaining <= 0:
                    raise SipTimeout(f"{request.method} to {peer} timed out")
                wait = min(interval, remaining) if peer.transport == "UDP" else remaining
                if await wait_done(future, wait):
                    return future.result()
                if peer.transport == "UDP" and key not in self._provisional:
                    self.send(request, peer)
                    interval = min(interval * 2, T2)
        finally:
            self._pending.pop(key, None)
            self._provisional.discard(key)

    async def close(self) -> None:
        """Close every socket and stop every task."""
        if self._udp is not None:
            self._udp.close()
            self._udp = None
        if self._tcp_server is not None:
            self._tcp_server.close()
            self._tcp_server = None
        for writer in list(self._connections.values()):
            writer.close()
        self._connections.clear()
        await self._tasks.cancel_all()

    async def _serve_tcp(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        host, port = writer.get_extra_info("peername")[:2]
        await self._read_tcp(reader, writer, Peer("TCP", host, port))

    async def _read_tcp(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, peer: Peer) -> None:
        self._connections[peer] = writer
        parser = SipStreamParser()
        try:
            while data := await reader.read(65536):
                for message in parser.feed(data):
                    self._on_message(message, peer)
        except (SipParseError, ConnectionError) as exc:
            log.debug("SIP TCP %s dropped: %s", peer, exc)
        finally:
            if self._connections.get(peer) is writer:
                del self._connections[peer]
            writer.close()

    def _on_bytes(self, data: bytes, peer: Peer) -> None:
        try:
            message = parse_message(data)
        except SipParseError as exc:
            log.debug("SIP from %s ignored: %s", peer, exc)
            return
        self._on_message(message, peer)

    def _on_message(self, message: SipRequest | SipResponse, peer: Peer) -> None:
        try:
            key = _transaction_key(message)
        except SipParseError:
            return
        if isinstance(message, SipResponse):
            future = self._pending.get(key)
            if future is None or future.done():
                return
            if message.status >= 200:
                future.set_result(message)
            else:
                self._provisional.add(key)
            return
        answered_key = (key[0], key[1], peer)
        if answered_key in self._answered:
            cached = self._answered[answered_key]
            if cached is not None:
                self.send(cached, peer)
            return
        if len(self._tasks) >= MAX_INFLIGHT_REQUESTS:
            return
        self._answered[answered_key] = None
        while len(self._answered) > RESPONSE_CACHE_SIZE:
            self._answered.popitem(last=False)
        self._tasks.spawn(self._handle(message, peer, answered_key))

    async def _handle(self, request: SipRequest, peer: Peer, answered_key: tuple[str, str, Peer]) -> None:
        try:
            response = await self.handler(request, peer)
        except Exception:
            log.exception("SIP handler failed for %s", request.method)
            response = None if request.method == "ACK" else build_response(request, 500, "Server Internal Error")
        if response is None:
            return
        if answered_key in self._answered:
            self._answered[answered_key] = response
        self.send(response, peer)
