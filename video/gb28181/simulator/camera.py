"""A simulated GB/T 28181 camera (IPC/NVR): registers with digest auth, keeps alive, answers queries and PTZ,
and on INVITE streams the test clip as PS over RTP (UDP, TCP active or TCP passive), misbehaving on request.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import random
import time
from dataclasses import dataclass, field

from video.gb28181 import manscdp
from video.gb28181.digest import authorization_header, parse_digest
from video.gb28181.h264 import START_CODE
from video.gb28181.manscdp import CatalogChannel, ManscdpError, parse_manscdp
from video.gb28181.media_transport import TCP_ACTIVE, TCP_PASSIVE, UDP, RtpSender
from video.gb28181.ps_mux import MuxOptions, PsMuxer, RtpPacketizer
from video.gb28181.ptz import PtzCommand, PtzError, parse_ptz
from video.gb28181.sdp import CONTENT_TYPE as SDP_TYPE
from video.gb28181.sdp import PlaySdp, SdpError, build_sdp, parse_sdp
from video.gb28181.simulator.clip import EncodedFrame, encode_clip
from video.gb28181.simulator.stamp import stamp_nal
from video.gb28181.sip.dialog import build_request, build_response, new_call_id, new_tag
from video.gb28181.sip.headers import parse_uri
from video.gb28181.sip.message import SipRequest, SipResponse
from video.gb28181.sip.transport import Peer, SipEndpoint, SipTimeout
from video.gb28181.tasks import BackgroundTasks

log = logging.getLogger(__name__)


@dataclass
class CameraConfig:
    """One simulated device and how it should (mis)behave."""

    device_id: str
    server_host: str = "127.0.0.1"
    server_port: int = 5060
    server_id: str = "34020000002000000001"
    domain: str = "3402000000"
    password: str = "12345678"
    transport: str = "UDP"  # SIP transport: UDP or TCP
    channels: int = 1
    catalog_per_message: int = 2
    keepalive_interval: float = 60.0
    expires: int = 3600
    width: int = 320
    height: int = 240
    fps: int = 25
    codec: str = "h264"
    mux: MuxOptions = field(default_factory=MuxOptions)
    loss: float = 0.0
    reorder: float = 0.0
    seed: int = 0
    longitude: float = 116.397
    latitude: float = 39.908
    gb_version: str | None = None
    t1: float = 0.5
    bitrate_kbps: int = 0  # 0: the plain clip; else a textured clip encoded at this rate
    stamp: bool = False  # put a latency stamp (SEI) in front of every frame
    catalog: tuple[CatalogChannel, ...] = ()  # explicit channels (e.g. the demo's seeded cameras)

    def channel_ids(self) -> list[str]:
        """The channel ids: the explicit catalog's, else type 131 numbered from the device's serial."""
        if self.catalog:
            return [channel.device_id for channel in self.catalog]
        serial = int(self.device_id[13:]) if self.device_id[13:].isdigit() else 0
        return [f"{self.device_id[:10]}131{(serial * 100 + index + 1) % 10**7:07d}" for index in range(self.channels)]


def shape(packets: list[bytes], loss: float, reorder: float, rng: random.Random) -> list[bytes]:
    """Drop a share of packets and swap some neighbours, as a bad UDP path does."""
    kept = [packet for packet in packets if rng.random() >= loss]
    for index in range(len(kept) - 1):
        if rng.random() < reorder:
            kept[index], kept[index + 1] = kept[index + 1], kept[index]
    return kept


class _Stream:
    """One outgoing media stream (one INVITE dialog)."""

    def __init__(self, camera: SimulatedCamera, offer: PlaySdp, sender: RtpSender) -> None:
        self.camera = camera
        self.offer = offer
        self.sender = sender
        self.task: asyncio.Task | None = None
        self.frames_sent = 0
        self.keyframe_requested = False

    async def run(self) -> None:
        config = self.camera.config
        clip = self.camera.clip()  # encoded at start-up: cached here
        muxer = PsMuxer(MuxOptions(**{**config.mux.__dict__, "codec": config.codec}))
        packetizer = RtpPacketizer(self.offer.ssrc or 0, first_sequence=65_500)  # wraps early on purpose
        rng = random.Random(config.seed)
        if not await self.sender.wait_connected(5.0):
            return
        started = time.monotonic()
        position = 0
        for number in itertools.count():
            if self.keyframe_requested:
                self.keyframe_requested, position = False, 0
            frame = clip[position % len(clip)]
            position += 1
            pts = number * 90_000 // config.fps
            data = START_CODE + stamp_nal(number, time.monotonic_ns()) + frame.data if config.stamp else frame.data
            packets = [p.to_bytes() for p in packetizer.packetize(muxer.mux(data, pts, frame.keyframe), pts)]
            if not await self.sender.send(shape(packets, config.loss, config.reorder, rng)):
                return
            self.frames_sent += 1
            delay = started + (number + 1) / config.fps - time.monotonic()
            await asyncio.sleep(max(delay, 0))

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
        await self.sender.close()


class SimulatedCamera:
    """A device that talks GB/T 28181 to a platform over loopback."""

    def __init__(self, config: CameraConfig) -> None:
        self.config = config
        self.endpoint = SipEndpoint(self._handle, t1=config.t1)
        self.server = Peer(config.transport, config.server_host, config.server_port)
        self.registered = False
        self.ptz_commands: list[PtzCommand] = []
        self.iframe_requests = 0
        self.streams: dict[str, _Stream] = {}
        self.last_register: SipResponse | None = None
        self._sn = itertools.count(1)
        self._cseq = itertools.count(1)
        self._call_id = new_call_id("127.0.0.1")
        self._tag = new_tag()
        self._keepalive: asyncio.Task | None = None
        self._tasks = BackgroundTasks()

    @property
    def channels(self) -> list[CatalogChannel]:
        """The catalog this device reports (positions spread around the configured point)."""
        if self.config.catalog:
            return list(self.config.catalog)
        return [
            CatalogChannel(
                channel_id, name=f"Camera {index + 1}", manufacturer="Simulated", model="SIM-1", civil_code="340200",
                address="Loopback Street", parent_id=self.config.device_id,
                longitude=self.config.longitude + index * 0.001, latitude=self.config.latitude + index * 0.001,
                ptz_type=1,
            )
            for index, channel_id in enumerate(self.config.channel_ids())
        ]

    def clip(self) -> tuple[EncodedFrame, ...]:
        """The looping clip this camera streams (encoded once per process and parameters)."""
        config = self.config
        return encode_clip(config.width, config.height, config.fps, codec=config.codec,
                           bitrate_kbps=config.bitrate_kbps)

    async def start(self, register: bool = True, keepalive: bool = True) -> None:
        """Encode the clip (once per process), open the SIP socket, register and start sending keepalives.

        The clip is encoded here, before any INVITE, and on this thread: PyAV encoding in a worker thread while
        the event loop decodes was seen to hang.
        """
        self.clip()
        if self.config.transport == "TCP":
            await self.endpoint.connect_tcp(self.config.server_host, self.config.server_port)
        else:
            await self.endpoint.listen_udp(0)
        if register:
            response = await self.register()
            if response.status != 200:
                raise RuntimeError(f"registration refused: {response.status} {response.reason}")
        if keepalive:
            self._keepalive = asyncio.ensure_future(self._keepalive_loop())

    async def stop(self) -> None:
        """Stop keepalives and streams and close the sockets (no unregister: like a camera losing power)."""
        if self._keepalive is not None:
            self._keepalive.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._keepalive
        for stream in list(self.streams.values()):
            await stream.stop()
        self.streams.clear()
        await self._tasks.cancel_all()
        await self.endpoint.close()

    def _uri(self) -> str:
        return f"sip:{self.config.server_id}@{self.config.domain}"

    def _request(self, method: str, body: bytes = b"", content_type: str | None = None,
                 extra: list[tuple[str, str]] | None = None, call_id: str | None = None) -> SipRequest:
        config = self.config
        port = self.endpoint.local_port(config.transport)
        headers = list(extra or [])
        if config.gb_version:
            headers.append(("X-GB-Ver", config.gb_version))
        return build_request(
            method,
            self._uri(),
            from_addr=f"<sip:{config.device_id}@{config.domain}>;tag={self._tag}",
            to_addr=f"<sip:{config.device_id}@{config.domain}>" if method == "REGISTER" else f"<{self._uri()}>",
            via_host="127.0.0.1",
            via_port=port,
            transport=config.transport,
            call_id=call_id or new_call_id("127.0.0.1"),
            cseq=next(self._cseq),
            body=body,
            content_type=content_type,
            extra=headers,
        )

    async def register(self, expires: int | None = None, password: str | None = None) -> SipResponse:
        """REGISTER, answering a 401 challenge with digest credentials; returns the final response."""
        config = self.config
        expires = config.expires if expires is None else expires
        contact = [("Contact", f"<sip:{config.device_id}@127.0.0.1:{self.endpoint.local_port(config.transport)}>"),
                   ("Expires", str(expires))]
        request = self._request("REGISTER", extra=contact, call_id=self._call_id)
        response = await self.endpoint.request(request, self.server)
        for _ in range(2):  # the first challenge, and one stale=true re-challenge
            if response.status != 401:
                break
            challenge = parse_digest(response.headers.get("WWW-Authenticate", "") or "")
            auth = authorization_header(challenge, username=config.device_id, password=password or config.password,
                                        method="REGISTER", uri=self._uri())
            request = self._request("REGISTER", extra=[*contact, ("Authorization", auth)], call_id=self._call_id)
            response = await self.endpoint.request(request, self.server)
        self.registered = response.status == 200 and expires > 0
        self.last_register = response
        return response

    async def send_message(self, body: bytes) -> SipResponse | None:
        """Send one MANSCDP MESSAGE to the platform."""
        try:
            return await self.endpoint.request(self._request("MESSAGE", body, manscdp.CONTENT_TYPE), self.server)
        except SipTimeout:
            return None

    async def send_keepalive(self) -> SipResponse | None:
        """One Keepalive notify."""
        return await self.send_message(manscdp.keepalive(self.config.device_id, next(self._sn)))

    async def send_alarm(self, description: str = "Motion detected") -> SipResponse | None:
        """An Alarm notify (priority 1, method 5 = video alarm) at the first channel's position."""
        channel = self.channels[0]
        body = manscdp.alarm_notify(
            self.config.device_id, next(self._sn), priority=1, method=5, time=time.strftime("%Y-%m-%dT%H:%M:%S"),
            description=description, longitude=channel.longitude, latitude=channel.latitude, alarm_type=2,
        )
        return await self.send_message(body)

    async def _keepalive_loop(self) -> None:
        while True:
            await asyncio.sleep(self.config.keepalive_interval)
            await self.send_keepalive()

    # ----- requests from the platform -----

    async def _handle(self, request: SipRequest, peer: Peer) -> SipResponse | None:
        if request.method == "MESSAGE":
            return self._message(request)
        if request.method == "INVITE":
            return await self._invite(request)
        if request.method == "ACK":
            stream = self.streams.get(request.call_id)
            if stream is not None and stream.task is None:
                stream.task = asyncio.ensure_future(stream.run())
            return None
        if request.method == "BYE":
            stream = self.streams.pop(request.call_id, None)
            if stream is None:
                return build_response(request, 481, "Call/Transaction Does Not Exist")
            self._tasks.spawn(stream.stop())
            return build_response(request, 200, "OK")
        return build_response(request, 405, "Method Not Allowed")

    def _message(self, request: SipRequest) -> SipResponse:
        try:
            message = parse_manscdp(request.body)
        except ManscdpError:
            return build_response(request, 400, "Bad Request")
        config, sn = self.config, message.sn
        if message.root == "Query" and message.cmd_type == "Catalog":
            bodies = manscdp.catalog_responses(config.device_id, sn, self.channels, config.catalog_per_message)
            self._tasks.spawn(self._send_all(bodies))
        elif message.root == "Query" and message.cmd_type == "DeviceInfo":
            body = manscdp.device_info_response(config.device_id, sn, name="Simulated camera", manufacturer="Simulated",
                                                model="SIM-1", firmware="1.0", channels=len(self.channels))
            self._tasks.spawn(self._send_all([body]))
        elif message.root == "Query" and message.cmd_type == "DeviceStatus":
            self._tasks.spawn(self._send_all([manscdp.device_status_response(config.device_id, sn)]))
        elif message.root == "Control" and message.cmd_type == "DeviceControl":
            if "PTZCmd" in message.fields:
                try:
                    self.ptz_commands.append(parse_ptz(message.fields["PTZCmd"]))
                except PtzError:
                    return build_response(request, 400, "Bad PTZCmd")
            if "IFameCmd" in message.fields:
                self.iframe_requests += 1
                for stream in self.streams.values():
                    stream.keyframe_requested = True
        return build_response(request, 200, "OK")

    async def _send_all(self, bodies: list[bytes]) -> None:
        for body in bodies:
            await self.send_message(body)

    async def _invite(self, request: SipRequest) -> SipResponse:
        try:
            offer = parse_sdp(request.body)
        except SdpError:
            return build_response(request, 488, "Not Acceptable Here")
        sender = RtpSender()
        try:
            if offer.transport == UDP:
                await sender.open_udp(offer.host, offer.port)
            elif offer.transport == TCP_PASSIVE:
                await sender.connect_tcp(offer.host, offer.port)
            elif offer.transport == TCP_ACTIVE:
                await sender.listen_tcp()
        except OSError:
            await sender.close()
            return build_response(request, 503, "Service Unavailable")
        channel_id = parse_uri(request.uri).user or self.config.device_id
        answer = PlaySdp(channel_id, "127.0.0.1", sender.port, offer.transport, offer.ssrc)
        self.streams[request.call_id] = _Stream(self, offer, sender)
        contact = f"<sip:{self.config.device_id}@127.0.0.1:{self.endpoint.local_port(self.config.transport)}>"
        return build_response(request, 200, "OK", to_tag=new_tag(), body=build_sdp(answer, answer=True),
                              content_type=SDP_TYPE, extra=[("Contact", contact)])


async def run_cameras(count: int, base: CameraConfig, first_number: int = 1) -> list[SimulatedCamera]:
    """Start `count` cameras like `base`, numbering their device ids (what `wall simulate cameras` runs)."""
    cameras = []
    for index in range(count):
        device_id = f"{base.device_id[:10]}132{first_number + index:07d}"
        camera = SimulatedCamera(CameraConfig(**{**base.__dict__, "device_id": device_id, "seed": index}))
        await camera.start()
        cameras.append(camera)
    return cameras
