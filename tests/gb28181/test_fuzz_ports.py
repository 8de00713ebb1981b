"""Random and mutated bytes on the SIP and RTP ports never crash or hang the platform."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.gb28181.media import Decoder, rtp_stream
from video.gb28181.media_transport import TCP_PASSIVE, UDP, RtpReceiver
from video.gb28181.pipeline import MediaPipeline
from video.gb28181.platform import GbPlatform
from video.gb28181.rfc4571 import frame
from video.gb28181.settings import GbSettings
from video.gb28181.sip.dialog import build_request
from video.gb28181.sip.message import parse_message

REGISTER = build_request(
    "REGISTER", "sip:34020000002000000001@3402000000", from_addr="<sip:34020000001320000001@3402000000>;tag=1",
    to_addr="<sip:34020000001320000001@3402000000>", via_host="127.0.0.1", via_port=5060, transport="UDP",
    call_id="fuzz@127.0.0.1", cseq=1,
).to_bytes()


class Background:
    """A platform and two RTP receivers running on an event loop in a thread."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.platform = GbPlatform(GbSettings(sip_port=0, sip_t1=0.05))
        self.decoders = {UDP: Decoder(), TCP_PASSIVE: Decoder()}
        self.receivers = {t: RtpReceiver(MediaPipeline(d, ssrc=1234)) for t, d in self.decoders.items()}
        self.run(self.platform.start())
        self.ports = {t: self.run(r.open(t)) for t, r in self.receivers.items()}

    def run(self, coro):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=10)

    def close(self) -> None:
        for receiver in self.receivers.values():
            self.run(receiver.close())
        self.run(self.platform.close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)
        self.loop.close()


@pytest.fixture(scope="module")
def background():
    running = Background()
    yield running
    running.close()


def sip_answers(port: int) -> int:
    """Send a REGISTER over UDP and return the status code it gets (the platform is alive)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(5)
        sock.sendto(REGISTER, ("127.0.0.1", port))
        return parse_message(sock.recv(65536)).status


def tcp_send(port: int, data: bytes, *, until_closed: bool = False) -> None:
    """Send `data` on a new TCP connection; with `until_closed`, then half-close and wait for the server to hang up.

    An RTP receiver reads one TCP connection at a time and refuses (closes) another that arrives meanwhile, so a
    connection sent right after one it has not finished with would be dropped unread.
    """
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(data)
        if until_closed:
            sock.shutdown(socket.SHUT_WR)
            with contextlib.suppress(ConnectionResetError):
                while sock.recv(65536):
                    pass


mutations = st.tuples(st.integers(0, len(REGISTER)), st.binary(max_size=64), st.integers(0, 64))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(st.binary(max_size=1500), mutations.map(lambda m: REGISTER[: m[0]] + m[1] + REGISTER[m[0] + m[2] :])))
def test_sip_ports_survive_garbage(background, data):
    port = background.platform.port
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.sendto(data, ("127.0.0.1", port))
    tcp_send(port, data)


def test_sip_ports_still_answer_after_the_fuzzing(background):
    assert sip_answers(background.platform.port) == 401


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.binary(max_size=1400), max_size=5))
def test_rtp_ports_survive_garbage(background, packets):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        for packet in packets:
            sock.sendto(packet, ("127.0.0.1", background.ports[UDP]))
    tcp_send(background.ports[TCP_PASSIVE], b"".join(packets), until_closed=True)


def test_rtp_tcp_port_still_carries_a_stream_after_the_fuzzing(background):
    tcp_send(background.ports[TCP_PASSIVE], b"".join(frame(p) for p in rtp_stream(30)), until_closed=True)
    decoder = background.decoders[TCP_PASSIVE]

    async def frames() -> None:
        while len(decoder.counters) < 10:
            await asyncio.sleep(0.02)

    background.run(asyncio.wait_for(frames(), 10))
    assert decoder.errors == 0
