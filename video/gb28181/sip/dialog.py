"""Transaction and dialog basics: branches, tags, Call-IDs, requests, responses and in-dialog requests."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from video.gb28181.sip.headers import NameAddr, parse_name_addr
from video.gb28181.sip.message import Headers, SipRequest, SipResponse

BRANCH_MAGIC = "z9hG4bK"
USER_AGENT = "commandwall-gb28181"


def new_branch() -> str:
    """A fresh RFC 3261 branch id (with the magic cookie)."""
    return BRANCH_MAGIC + secrets.token_hex(8)


def new_tag() -> str:
    """A fresh From/To tag."""
    return secrets.token_hex(6)


def new_call_id(host: str) -> str:
    """A fresh, globally unique Call-ID."""
    return f"{secrets.token_hex(12)}@{host}"


def build_request(
    method: str,
    uri: str,
    *,
    from_addr: str,
    to_addr: str,
    via_host: str,
    via_port: int,
    transport: str,
    call_id: str,
    cseq: int,
    body: bytes = b"",
    content_type: str | None = None,
    extra: list[tuple[str, str]] | None = None,
) -> SipRequest:
    """A request with a fresh branch and the mandatory headers."""
    headers = Headers(
        [
            ("Via", f"SIP/2.0/{transport} {via_host}:{via_port};rport;branch={new_branch()}"),
            ("From", from_addr),
            ("To", to_addr),
            ("Call-ID", call_id),
            ("CSeq", f"{cseq} {method}"),
            ("Max-Forwards", "70"),
            ("User-Agent", USER_AGENT),
        ]
    )
    for name, value in extra or []:
        headers.add(name, value)
    if content_type:
        headers.add("Content-Type", content_type)
    return SipRequest(headers=headers, body=body, method=method, uri=uri)


def build_response(
    request: SipRequest,
    status: int,
    reason: str,
    *,
    to_tag: str | None = None,
    body: bytes = b"",
    content_type: str | None = None,
    extra: list[tuple[str, str]] | None = None,
) -> SipResponse:
    """A response copying Via, From, To (adding our tag), Call-ID and CSeq from the request."""
    headers = Headers()
    for via in request.headers.get_all("Via"):
        headers.add("Via", via)
    headers.add("From", request.headers.get("From", "") or "")
    to_value = request.headers.get("To", "") or ""
    if to_tag and ";tag=" not in to_value.replace(" ", "").lower():
        to_value = f"{to_value};tag={to_tag}"
    headers.add("To", to_value)
    headers.add("Call-ID", request.call_id)
    headers.add("CSeq", request.headers.get("CSeq", "") or "")
    headers.add("User-Agent", USER_AGENT)
    for name, value in extra or []:
        headers.add(name, value)
    if content_type:
        headers.add("Content-Type", content_type)
    return SipResponse(headers=headers, body=body, status=status, reason=reason)


def ack_for_failure(invite: SipRequest, response: SipResponse) -> SipRequest:
    """The ACK for a non-2xx INVITE response: same transaction (top Via), To with the response's tag."""
    headers = Headers(
        [
            ("Via", invite.headers.get_all("Via")[0]),
            ("From", invite.headers.get("From", "") or ""),
            ("To", response.headers.get("To", "") or ""),
            ("Call-ID", invite.call_id),
            ("CSeq", f"{invite.cseq[0]} ACK"),
            ("Max-Forwards", "70"),
        ]
    )
    return SipRequest(headers=headers, method="ACK", uri=invite.uri)


@dataclass
class Dialog:
    """An established INVITE dialog, keyed by Call-ID, seen from one side."""

    call_id: str
    local: NameAddr
    remote: NameAddr
    remote_target: str
    local_cseq: int
    via_host: str
    via_port: int
    transport: str

    @classmethod
    def from_uac(cls, request: SipRequest, response: SipResponse, via_host: str, via_port: int) -> Dialog:
        """The dialog we opened with ``request`` and that ``response`` (2xx) accepted."""
        contact = response.headers.get("Contact")
        target = parse_name_addr(contact).uri if contact else parse_name_addr(request.headers.get("To", "")).uri
        return cls(
            call_id=request.call_id,
            local=parse_name_addr(request.headers.get("From", "") or ""),
            remote=parse_name_addr(response.headers.get("To", "") or ""),
            remote_target=str(target),
            local_cseq=request.cseq[0],
            via_host=via_host,
            via_port=via_port,
            transport=request.headers.get_all("Via")[0].split()[0].rsplit("/", 1)[-1],
        )

    @classmethod
    def from_uas(cls, request: SipRequest, response: SipResponse, via_host: str, via_port: int) -> Dialog:
        """The dialog a remote party opened with ``request`` and we accepted with ``response``."""
        contact = request.headers.get("Contact")
        target = parse_name_addr(contact).uri if contact else parse_name_addr(request.headers.get("From", "")).uri
        return cls(
            call_id=request.call_id,
            local=parse_name_addr(response.headers.get("To", "") or ""),
            remote=parse_name_addr(request.headers.get("From", "") or ""),
            remote_target=str(target),
            local_cseq=0,
            via_host=via_host,
            via_port=via_port,
            transport=request.headers.get_all("Via")[0].split()[0].rsplit("/", 1)[-1],
        )

    def request(
        self, method: str, *, cseq: int | None = None, body: bytes = b"", content_type: str | None = None
    ) -> SipRequest:
        """An in-dialog request (ACK reuses the INVITE's CSeq number; others increment)."""
        if cseq is None:
            self.local_cseq += 1
            cseq = self.local_cseq
        return build_request(
            method,
            self.remote_target,
            from_addr=str(self.local),
            to_addr=str(self.remote),
            via_host=self.via_host,
            via_port=self.via_port,
            transport=self.transport,
            call_id=self.call_id,
            cseq=cseq,
            body=body,
            content_type=content_type,
        )
