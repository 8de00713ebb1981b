"""Structured SIP header values: URIs, name-addr (From/To/Contact), Via, CSeq."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from video.gb28181.sip.message import SipParseError

_URI = re.compile(r"^(sips?):(?:([^@;>]*)@)?([^:;>?]+)(?::(\d{1,5}))?(;[^?>]*)?$", re.IGNORECASE)


def parse_params(text: str) -> dict[str, str]:
    """Parse ``;a=b;c`` into {'a': 'b', 'c': ''} (names lower-cased, quotes stripped)."""
    params: dict[str, str] = {}
    for part in text.split(";"):
        part = part.strip()
        if not part:
            continue
        name, _, value = part.partition("=")
        params[name.strip().lower()] = value.strip().strip('"')
    return params


def format_params(params: dict[str, str]) -> str:
    """Format params as ``;a=b;c``."""
    return "".join(f";{name}={value}" if value != "" else f";{name}" for name, value in params.items())


@dataclass
class SipUri:
    """``sip:user@host:port;params``."""

    user: str
    host: str
    port: int | None = None
    scheme: str = "sip"
    params: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        user = f"{self.user}@" if self.user else ""
        port = f":{self.port}" if self.port else ""
        return f"{self.scheme}:{user}{self.host}{port}{format_params(self.params)}"


def parse_uri(text: str) -> SipUri:
    """Parse a SIP URI; raises SipParseError."""
    match = _URI.match(text.strip())
    if not match:
        raise SipParseError(f"bad SIP URI: {text[:80]!r}")
    scheme, user, host, port, params = match.groups()
    port_number = int(port) if port else None
    if port_number is not None and not 0 < port_number < 65536:
        raise SipParseError("bad port in URI")
    return SipUri(user or "", host, port_number, scheme.lower(), parse_params(params or ""))


@dataclass
class NameAddr:
    """A From/To/Contact value: optional display name, URI, header params (tag...)."""

    uri: SipUri
    display: str = ""
    params: dict[str, str] = field(default_factory=dict)

    @property
    def tag(self) -> str:
        """The ``tag`` parameter ('' when absent)."""
        return self.params.get("tag", "")

    def __str__(self) -> str:
        display = f'"{self.display}" ' if self.display else ""
        return f"{display}<{self.uri}>{format_params(self.params)}"


def parse_name_addr(text: str) -> NameAddr:
    """Parse ``"Name" <sip:u@h>;tag=x`` or ``sip:u@h;tag=x``; raises SipParseError."""
    text = text.strip()
    if "<" in text:
        display, _, rest = text.partition("<")
        uri, sep, params = rest.partition(">")
        if not sep:
            raise SipParseError("unterminated <uri>")
        return NameAddr(parse_uri(uri), display.strip().strip('"'), parse_params(params))
    uri, _, params = text.partition(";")
    return NameAddr(parse_uri(uri), "", parse_params(params))


@dataclass
class Via:
    """One Via hop: transport, sent-by host/port and params (branch, rport, received)."""

    transport: str
    host: str
    port: int | None = None
    params: dict[str, str] = field(default_factory=dict)

    @property
    def branch(self) -> str:
        """The ``branch`` parameter ('' when absent)."""
        return self.params.get("branch", "")

    def __str__(self) -> str:
        port = f":{self.port}" if self.port else ""
        return f"SIP/2.0/{self.transport} {self.host}{port}{format_params(self.params)}"


def parse_via(text: str) -> Via:
    """Parse one Via value; raises SipParseError."""
    protocol, _, rest = text.strip().partition(" ")
    pieces = protocol.split("/")
    if len(pieces) != 3 or pieces[0].upper() != "SIP":
        raise SipParseError("bad Via protocol")
    sent_by, _, params = rest.strip().partition(";")
    host, _, port = sent_by.strip().partition(":")
    if not host or (port and (not port.isdigit() or not 0 < int(port) < 65536)):
        raise SipParseError("bad Via sent-by")
    return Via(pieces[2].upper(), host, int(port) if port else None, parse_params(params))


def parse_cseq(text: str) -> tuple[int, str]:
    """Parse ``CSeq: 1 REGISTER`` into (1, 'REGISTER'); raises SipParseError."""
    parts = text.split()
    if len(parts) != 2 or not parts[0].isdigit() or len(parts[0]) > 10:
        raise SipParseError("bad CSeq")
    number = int(parts[0])
    if number >= 2**31:
        raise SipParseError("CSeq out of range")
    return number, parts[1].upper()
