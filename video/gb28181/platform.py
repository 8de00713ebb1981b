"""The GB/T 28181 platform (SIP server side): registration, keepalive, queries, PTZ and live play.

Run it with ``await GbPlatform(settings, events).start()``; it listens on UDP and TCP at
``settings.host:settings.sip_port``. Play a channel with :meth:`GbPlatform.play`, which returns a
:class:`PlaySession` that delivers H.264 access units until :meth:`PlaySession.stop` sends BYE.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import itertools
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from video.gb28181 import manscdp
from video.gb28181.catalog import CatalogAccumulator, CatalogResult
from video.gb28181.digest import AuthResult, DigestAuthenticator, Lockout
from video.gb28181.h264 import AccessUnit
from video.gb28181.manscdp import Alarm, ManscdpError, ManscdpMessage, parse_manscdp
from video.gb28181.media_transport import TCP_ACTIVE, RtpReceiver
from video.gb28181.pipeline import MediaPipeline
from video.gb28181.ptz import PtzCommand
from video.gb28181.registry import Device, DeviceRegistry, PlatformEvents
from video.gb28181.sdp import CONTENT_TYPE as SDP_TYPE
from video.gb28181.sdp import PlaySdp, SdpError, build_sdp, parse_sdp, ssrc_for
from video.gb28181.settings import GbSettings
from video.gb28181.sip.dialog import Dialog, ack_for_failure, build_request, build_response, new_call_id, new_tag
from video.gb28181.sip.headers import parse_name_addr, parse_params
from video.gb28181.sip.message import SipParseError, SipRequest, SipResponse
from video.gb28181.sip.transport import Peer, SipEndpoint, SipTimeout
from video.gb28181.tasks import BackgroundTasks, wait_done

log = logging.getLogger(__name__)

_DEVICE_ID = re.compile(r"^[0-9A-Za-z]{1,32}$")
MAX_EXPIRES = 86_400


class PlayError(Exception):
    """A play request the device refused or did not answer."""


def gb_date(now: datetime.datetime | None = None) -> str:
    """The GB ``Date`` header value: local time as ``YYYY-MM-DDTHH:MM:SS.mmm`` (devices set their clock from it)."""
    now = now or datetime.datetime.now()
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}"


@dataclass
class PlaySession:
    """One live stream from a device channel, keyed by its Call-ID."""

    call_id: str
    device_id: str
    channel_id: str
    transport: str
    ssrc: int
    pipeline: MediaPipeline
    receiver: RtpReceiver
    dialog: Dialog | None = None
    closed: asyncio.Event = field(default_factory=asyncio.Event)
    platform: GbPlatform | None = field(default=None, repr=False)

    @property
    def playable(self) -> bool | None:
        """Whether browsers can play the stream as is (False for H.265; None until known)."""
        return self.pipeline.playable

    async def stop(self) -> None:
        """Send BYE (once) and close the media socket."""
        if self.platform is not None:
            await self.platform._end_session(self, send_bye=True)


class GbPlatform:
    """Our side of GB/T 28181: devices register to it; it queries, controls and plays them."""

    def __init__(
        self,
        settings: GbSettings,
        events: PlatformEvents | None = None,
        *,
        password_for: Callable[[str], str | None] | None = None,
    ) -> None:
        self.settings = settings
        self.events = events or PlatformEvents()
        self.password_for = password_for or (lambda _device_id: settings.password)
        self.registry = DeviceRegistry(self.events, settings.offline_after)
        self.auth = DigestAuthenticator(
            settings.domain,
            nonce_ttl=settings.nonce_ttl,
            lockout=Lockout(settings.lockout_failures, settings.lockout_window, settings.lockout_seconds),
        )
        self.catalogs = CatalogAccumulator(settings.catalog_timeout)
        self.endpoint = SipEndpoint(self._handle, host=settings.host, t1=settings.sip_t1)
        self.sessions: dict[str, PlaySession] = {}
        self._sn = itertools.count(1)
        self._cseq = itertools.count(1)
        self._ssrc_seq = itertools.count(1)
        self._waiters: dict[tuple[str, str, int], asyncio.Future[ManscdpMessage | CatalogResult]] = {}
        self._tasks = BackgroundTasks()

    async def start(self) -> None:
        """Listen on UDP and TCP and start the keepalive watchdog."""
        for _ in range(20):
            port = await self.endpoint.listen_udp(self.settings.sip_port)
            try:
                await self.endpoint.listen_tcp(port)
                break
            except OSError:
                # With port 0 the kernel picked a UDP port whose TCP twin is taken: pick again.
                await self.endpoint.close()
                if self.settings.sip_port:
                    raise
        self._tasks.spawn(self._watch())

    @property
    def port(self) -> int:
        """The SIP port (UDP and TCP)."""
        return self.endpoint.udp_port

    async def close(self) -> None:
        """Stop every stream (BYE), then the sockets and tasks."""
        for session in list(self.sessions.values()):
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._end_session(session, send_bye=True), 1.0)
        await self._tasks.cancel_all()
        await self.endpoint.close()

    # ----- incoming requests -----

    async def _handle(self, request: SipRequest, peer: Peer) -> SipResponse | None:
        if request.method == "ACK":
            return None
        try:
            sender = parse_name_addr(request.headers.get("From", "") or "").uri.user
        except SipParseError:
            return build_response(request, 400, "Bad From")
        if request.method == "REGISTER":
            return self._register(request, peer, sender)
        if request.method == "BYE":
            session = self.sessions.get(request.call_id)
            if session is None:
                return build_response(request, 481, "Call/Transaction Does Not Exist")
            self._tasks.spawn(self._end_session(session, send_bye=False))
            return build_response(request, 200, "OK")
        device = self.registry.get(sender)
        if device is None:
            return build_response(request, 403, "Forbidden")
        if request.method == "MESSAGE":
            return self._message(request, peer, device)
        return build_response(request, 405, "Method Not Allowed", extra=[("Allow", "REGISTER, MESSAGE, BYE, ACK")])

    def _register(self, request: SipRequest, peer: Peer, device_id: str) -> SipResponse:
        if not _DEVICE_ID.match(device_id):
            return build_response(request, 400, "Bad Device ID")
        password = self.password_for(device_id)
        if password is None:
            return build_response(request, 403, "Forbidden")
        result = self.auth.verify(device_id, request.headers.get("Authorization"), "REGISTER", password)
        if result in (AuthResult.MISSING, AuthResult.STALE):
            challenge = self.auth.challenge(stale=result is AuthResult.STALE)
            extra = [("WWW-Authenticate", challenge)]
            return build_response(request, 401, "Unauthorized", to_tag=new_tag(), extra=extra)
        if result is not AuthResult.OK:
            log.info("GB28181 REGISTER from %s refused: %s", device_id, result.value)
            return build_response(request, 403, "Forbidden")
        expires = self._expires(request)
        extra = [("Date", gb_date()), ("Expires", str(expires))]
        gb_version = request.headers.get("X-GB-Ver")
        if gb_version:
            extra.append(("X-GB-Ver", gb_version))
        contact = request.headers.get("Contact", "") or ""
        if contact:
            extra.append(("Contact", contact))
        if expires == 0:
            self.registry.unregister(device_id)
        else:
            self.registry.register(device_id, peer, contact, expires, gb_version or "2.0")
        return build_response(request, 200, "OK", to_tag=new_tag(), extra=extra)

    def _expires(self, request: SipRequest) -> int:
        value = request.headers.get("Expires")
        if value is None:
            contact = request.headers.get("Contact", "") or ""
            value = parse_params(contact.partition(">")[2]).get("expires") if ">" in contact else None
        if value is None or not value.strip().isdigit():
            return self.settings.register_expires_default
        return min(int(value.strip()), MAX_EXPIRES)

    def _message(self, request: SipRequest, peer: Peer, device: Device) -> SipResponse:
        try:
            message = parse_manscdp(request.body)
        except ManscdpError as exc:
            log.debug("bad MANSCDP from %s: %s", device.device_id, exc)
            return build_response(request, 400, "Bad Request")
        self.registry.seen(device, peer)
        if message.root == "Notify" and message.cmd_type == "Alarm":
            self.events.emit("on_alarm", Alarm.from_message(message))
            body = manscdp.result_response("Alarm", message.device_id, message.sn)
            self._tasks.spawn(self._send_message(device, body))
        elif message.root == "Response" and message.cmd_type == "Catalog":
            result = self.catalogs.add(message)
            if result is not None:
                self._catalog_done(device, result)
        elif message.root == "Response":
            self._resolve((message.cmd_type, message.device_id, message.sn), message)
        return build_response(request, 200, "OK")

    def _catalog_done(self, device: Device, result: CatalogResult) -> None:
        device.channels.update({channel.device_id: channel for channel in result.channels})
        self.events.emit("on_catalog", device.device_id, result.channels)
        self._resolve(("Catalog", result.device_id, result.sn), result)

    def _resolve(self, key: tuple[str, str, int], value: ManscdpMessage | CatalogResult) -> None:
        future = self._waiters.get(key)
        if future is not None and not future.done():
            future.set_result(value)

    async def _watch(self) -> None:
        interval = min(max(self.settings.keepalive_interval / 4, 0.05), 5.0)
        while True:
            await asyncio.sleep(interval)
            self.registry.check()
            for result in self.catalogs.expire():
                device = self.registry.get(result.device_id)
                if device is not None and result.channels:
                    self._catalog_done(device, result)

    # ----- outgoing requests -----

    def _device(self, device_id: str) -> Device:
        device = self.registry.get(device_id)
        if device is None or not device.online:
            raise LookupError(f"device {device_id} is not online")
        return device

    def _request(self, device: Device, method: str, target_id: str, body: bytes, content_type: str) -> SipRequest:
        settings = self.settings
        host = f"{device.peer.host}:{device.peer.port}"
        return build_request(
            method,
            f"sip:{target_id}@{host}",
            from_addr=f"<sip:{settings.platform_id}@{settings.domain}>;tag={new_tag()}",
            to_addr=f"<sip:{target_id}@{settings.domain}>",
            via_host=settings.host,
            via_port=self.endpoint.local_port(device.peer.transport),
            transport=device.peer.transport,
            call_id=new_call_id(settings.host),
            cseq=next(self._cseq),
            body=body,
            content_type=content_type,
            extra=[("Contact", f"<sip:{settings.platform_id}@{settings.host}:{self.port}>")],
        )

    async def _send_message(self, device: Device, body: bytes) -> SipResponse | None:
        request = self._request(device, "MESSAGE", device.device_id, body, manscdp.CONTENT_TYPE)
        try:
            return await self.endpoint.request(request, device.peer, self.settings.request_timeout)
        except SipTimeout:
            log.info("MESSAGE to %s timed out", device.device_id)
            return None

    async def _query(self, device_id: str, cmd_type: str, timeout: float) -> ManscdpMessage | CatalogResult | None:
        device = self._device(device_id)
        sn = next(self._sn)
        key = (cmd_type, device_id, sn)
        future = self._waiters[key] = asyncio.get_running_loop().create_future()
        try:
            response = await self._send_message(device, manscdp.query(cmd_type, device_id, sn))
            if response is not None and response.status < 300:
                if await wait_done(future, timeout):
                    return future.result()
        finally:
            self._waiters.pop(key, None)
        partial = self.catalogs.take(device_id, sn) if cmd_type == "Catalog" else None
        if partial is not None:  # a timed-out catalog still returns what arrived
            self._catalog_done(device, partial)
        return partial

    async def query_catalog(self, device_id: str) -> CatalogResult:
        """Ask for a device's catalog and wait for all SumNum channels (or what arrived by the timeout)."""
        result = await self._query(device_id, "Catalog", self.settings.catalog_timeout)
        return result if isinstance(result, CatalogResult) else CatalogResult(device_id, 0, 0, [])

    async def query_device_info(self, device_id: str) -> ManscdpMessage | None:
        """Ask for DeviceInfo (manufacturer, model, firmware, channel count)."""
        result = await self._query(device_id, "DeviceInfo", self.settings.request_timeout)
        return result if isinstance(result, ManscdpMessage) else None

    async def query_device_status(self, device_id: str) -> ManscdpMessage | None:
        """Ask for DeviceStatus."""
        result = await self._query(device_id, "DeviceStatus", self.settings.request_timeout)
        return result if isinstance(result, ManscdpMessage) else None

    async def _control(self, device_id: str, body_for: Callable[[int], bytes]) -> bool:
        device = self._device(device_id)
        response = await self._send_message(device, body_for(next(self._sn)))
        return response is not None and response.status < 300

    async def ptz(self, device_id: str, channel_id: str, command: PtzCommand) -> bool:
        """Send a PTZCmd to a channel; True when the device accepted the MESSAGE."""
        return await self._control(device_id, lambda sn: manscdp.ptz_control(channel_id, sn, command.to_hex()))

    async def request_iframe(self, device_id: str, channel_id: str) -> bool:
        """Ask a channel for an I-frame now."""
        return await self._control(device_id, lambda sn: manscdp.iframe_request(channel_id, sn))

    # ----- live play -----

    async def play(
        self,
        device_id: str,
        channel_id: str,
        transport: str,
        on_access_unit: Callable[[AccessUnit], None],
        on_codec: Callable[[str], None] | None = None,
    ) -> PlaySession:
        """INVITE a channel for live video over UDP, TCP-passive or TCP-active; raises PlayError."""
        device = self._device(device_id)
        ssrc = ssrc_for(True, self.settings.platform_id, next(self._ssrc_seq))
        pipeline = MediaPipeline(on_access_unit, ssrc=ssrc, on_codec=on_codec)
        receiver = RtpReceiver(pipeline, self.settings.media_host)
        try:
            port = await receiver.open(transport)
            offer = PlaySdp(self.settings.platform_id, self.settings.media_host, port or 9, transport, ssrc)
            request = self._request(device, "INVITE", channel_id, build_sdp(offer), SDP_TYPE)
            request.headers.add("Subject", f"{channel_id}:{ssrc:010d},{self.settings.platform_id}:0")
            try:
                response = await self.endpoint.request(request, device.peer, self.settings.request_timeout)
            except SipTimeout as exc:
                raise PlayError(f"INVITE to {channel_id} timed out") from exc
            if response.status >= 300:
                self.endpoint.send(ack_for_failure(request, response), device.peer)
                raise PlayError(f"device answered {response.status} {response.reason}")
            via_port = self.endpoint.local_port(device.peer.transport)
            dialog = Dialog.from_uac(request, response, self.settings.host, via_port)
            self.endpoint.send(dialog.request("ACK", cseq=request.cseq[0]), device.peer)
            session = PlaySession(request.call_id, device_id, channel_id, transport, ssrc, pipeline, receiver,
                                  dialog, platform=self)
            self.sessions[session.call_id] = session
            try:
                answer = parse_sdp(response.body, answer=True)
                if transport == TCP_ACTIVE:
                    await receiver.connect(answer.host, answer.port)
            except (SdpError, OSError) as exc:
                await self._end_session(session, send_bye=True)
                raise PlayError(f"cannot use the device's answer: {exc}") from exc
            if answer.ssrc is not None and answer.ssrc != ssrc:
                pipeline.ssrc_filter.ssrc = answer.ssrc  # the device chose its own SSRC
            return session
        except BaseException:
            if not any(s.receiver is receiver for s in self.sessions.values()):
                await receiver.close()
            raise

    async def _end_session(self, session: PlaySession, send_bye: bool) -> None:
        if self.sessions.pop(session.call_id, None) is None:
            return
        session.closed.set()
        await session.receiver.close()
        device = self.registry.get(session.device_id)
        if send_bye and session.dialog is not None and device is not None:
            with contextlib.suppress(SipTimeout):
                await self.endpoint.request(session.dialog.request("BYE"), device.peer, self.settings.request_timeout)
