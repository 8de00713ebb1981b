"""SIP requests and responses: parse from bytes, build to bytes, with strict limits.

Header names are case-insensitive and compact forms (``v``, ``f``, ``t``, ``i``, ``m``, ``l``, ``c``...)
are expanded to their long form. The body is kept as bytes (MANSCDP bodies are often GB2312).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

MAX_MESSAGE_BYTES = 64 * 1024
MAX_HEADERS = 64
MAX_HEADER_LINE = 4096

COMPACT_FORMS = {
    "v": "Via",
    "f": "From",
    "t": "To",
    "i": "Call-ID",
    "m": "Contact",
    "l": "Content-Length",
    "c": "Content-Type",
    "k": "Supported",
    "s": "Subject",
    "e": "Content-Encoding",
    "o": "Event",
}
CANONICAL_NAMES = {
    name.lower(): name
    for name in (
        "Via", "From", "To", "Call-ID", "CSeq", "Contact", "Content-Length", "Content-Type", "Max-Forwards",
        "User-Agent", "Expires", "Date", "Authorization", "WWW-Authenticate", "Subject", "Supported",
        "Content-Encoding", "Event", "Allow", "Route", "Record-Route", "X-GB-Ver",
    )
}
SIP_VERSION = "SIP/2.0"
_TOKEN = re.compile(r"^[A-Za-z0-9.!%*_+`'~-]+$")


class SipParseError(ValueError):
    """Raised for any malformed or over-limit SIP message."""


def canonical_name(name: str) -> str:
    """The canonical spelling of a header name (compact forms expanded)."""
    lowered = name.strip().lower()
    if lowered in COMPACT_FORMS:
        return COMPACT_FORMS[lowered]
    return CANONICAL_NAMES.get(lowered, name.strip())


class Headers:
    """An ordered, case-insensitive multi-map of SIP headers."""

    def __init__(self, items: Iterable[tuple[str, str]] = ()) -> None:
        self._items: list[tuple[str, str]] = []
        for name, value in items:
            self.add(name, value)

    def add(self, name: str, value: str) -> None:
        """Append a header (keeps existing ones of the same name)."""
        self._items.append((canonical_name(name), str(value)))

    def set(self, name: str, value: str) -> None:
        """Replace every header of this name by one value (in place of the first)."""
        key = canonical_name(name).lower()
        for index, (existing, _) in enumerate(self._items):
            if existing.lower() == key:
                self._items[index] = (canonical_name(name), str(value))
                self._items[index + 1 :] = [item for item in self._items[index + 1 :] if item[0].lower() != key]
                return
        self.add(name, value)

    def get(self, name: str, default: str | None = None) -> str | None:
        """The first value of a header, or ``default``."""
        key = canonical_name(name).lower()
        for existing, value in self._items:
            if existing.lower() == key:
                return value
        return default

    def get_all(self, name: str) -> list[str]:
        """Every value of a header, in order, splitting comma-separated Via values."""
        key = canonical_name(name).lower()
        values = [value for existing, value in self._items if existing.lower() == key]
        if key == "via":
            return [part.strip() for value in values for part in value.split(",") if part.strip()]
        return values

    def remove(self, name: str) -> None:
        """Drop every header of this name."""
        key = canonical_name(name).lower()
        self._items = [item for item in self._items if item[0].lower() != key]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.get(name) is not None

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(list(self._items))

    def __len__(self) -> int:
        return len(self._items)

    def copy(self) -> Headers:
        """A shallow copy."""
        return Headers(self._items)


@dataclass
class SipMessage:
    """What requests and responses share: headers and a body."""

    headers: Headers = field(default_factory=Headers)
    body: bytes = b""

    @property
    def call_id(self) -> str:
        """The Call-ID header ('' when absent)."""
        return self.headers.get("Call-ID", "") or ""

    @property
    def cseq(self) -> tuple[int, str]:
        """The CSeq header as (number, method); raises SipParseError when malformed."""
        from video.gb28181.sip.headers import parse_cseq

        return parse_cseq(self.headers.get("CSeq", "") or "")

    def first_line(self) -> str:
        """The request or status line."""
        raise NotImplementedError

    def to_bytes(self) -> bytes:
        """Serialise with a correct Content-Length."""
        self.headers.set("Content-Length", str(len(self.body)))
        lines = [self.first_line()]
        lines.extend(f"{name}: {value}" for name, value in self.headers)
        return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8") + self.body


@dataclass
class SipRequest(SipMessage):
    """A SIP request such as REGISTER, MESSAGE, INVITE, ACK or BYE."""

    method: str = "OPTIONS"
    uri: str = ""

    def first_line(self) -> str:
        """``METHOD uri SIP/2.0``."""
        return f"{self.method} {self.uri} {SIP_VERSION}"


@dataclass
class SipResponse(SipMessage):
    """A SIP response with its status code and reason phrase."""

    status: int = 200
    reason: str = "OK"

    def first_line(self) -> str:
        """``SIP/2.0 code reason``."""
        return f"{SIP_VERSION} {self.status} {self.reason}"


def split_head(data: bytes) -> tuple[bytes, bytes] | None:
    """Split a message into its head and what follows the blank line, or None if incomplete."""
    index = data.find(b"\r\n\r\n")
    if index >= 0:
        return data[:index], data[index + 4 :]
    index = data.find(b"\n\n")
    if index >= 0:
        return data[:index], data[index + 2 :]
    return None


def _decode_head(head: bytes) -> list[str]:
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        text = head.decode("gb18030", errors="replace")
    lines: list[str] = []
    for raw in text.replace("\r\n", "\n").split("\n"):
        if len(raw) > MAX_HEADER_LINE:
            raise SipParseError("header line too long")
        if raw[:1] in (" ", "\t") and lines:
            lines[-1] += " " + raw.strip()  # folded continuation line
        else:
            lines.append(raw)
    return lines


def _parse_first_line(line: str) -> SipRequest | SipResponse:
    parts = line.split(" ", 2)
    if len(parts) < 2:
        raise SipParseError(f"bad first line: {line[:80]!r}")
    if parts[0] == SIP_VERSION:
        if not parts[1].isdigit() or len(parts[1]) != 3:
            raise SipParseError("bad status code")
        status = int(parts[1])
        if not 100 <= status <= 699:
            raise SipParseError("status code out of range")
        return SipResponse(status=status, reason=parts[2] if len(parts) > 2 else "")
    if len(parts) != 3 or parts[2] != SIP_VERSION:
        raise SipParseError("bad request line")
    method, uri = parts[0], parts[1]
    if not _TOKEN.match(method) or not uri or any(ch.isspace() for ch in uri):
        raise SipParseError("bad method or request URI")
    return SipRequest(method=method.upper(), uri=uri)


def parse_head(head: bytes) -> SipRequest | SipResponse:
    """Parse a first line and headers (no body) into a message; raises SipParseError."""
    lines = _decode_head(head)
    while lines and not lines[0].strip():
        lines.pop(0)  # tolerate leading CRLF keep-alives
    if not lines:
        raise SipParseError("empty message")
    message = _parse_first_line(lines[0].strip())
    header_lines = [line for line in lines[1:] if line.strip()]
    if len(header_lines) > MAX_HEADERS:
        raise SipParseError("too many headers")
    for line in header_lines:
        name, sep, value = line.partition(":")
        if not sep or not name.strip() or not _TOKEN.match(name.strip()):
            raise SipParseError(f"bad header line: {line[:80]!r}")
        message.headers.add(name, value.strip())
    for required in ("Call-ID", "CSeq", "From", "To"):
        if not message.headers.get(required):
            raise SipParseError(f"missing {required}")
    if not message.headers.get_all("Via"):
        raise SipParseError("missing Via")
    number, method = message.cseq
    if isinstance(message, SipRequest) and method != message.method:
        raise SipParseError("CSeq method differs from request method")
    return message


def content_length(message: SipMessage) -> int | None:
    """The declared Content-Length, None when absent; raises SipParseError when malformed."""
    value = message.headers.get("Content-Length")
    if value is None:
        return None
    value = value.strip()
    if not value.isdigit() or len(value) > 7:
        raise SipParseError("bad Content-Length")
    length = int(value)
    if length > MAX_MESSAGE_BYTES:
        raise SipParseError("Content-Length over limit")
    return length


def parse_message(data: bytes) -> SipRequest | SipResponse:
    """Parse one whole datagram into a request or response; raises SipParseError."""
    if len(data) > MAX_MESSAGE_BYTES:
        raise SipParseError("message too large")
    parts = split_head(data)
    if parts is None:
        raise SipParseError("no end of headers")
    head, rest = parts
    message = parse_head(head)
    length = content_length(message)
    if length is None:
        message.body = rest
    elif len(rest) < length:
        raise SipParseError("body shorter than Content-Length")
    else:
        message.body = rest[:length]
    return message


class SipStreamParser:
    """Frames SIP messages out of a TCP byte stream (Content-Length required)."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[SipRequest | SipResponse]:
        """Add bytes and return every complete message; raises SipParseError (then drop the connection)."""
        self._buffer += data
        messages: list[SipRequest | SipResponse] = []
        while True:
            while self._buffer[:2] == b"\r\n":
                del self._buffer[:2]  # keep-alive CRLFs
            parts = split_head(bytes(self._buffer[: MAX_MESSAGE_BYTES + 4]))
            if parts is None:
                if len(self._buffer) > MAX_MESSAGE_BYTES:
                    raise SipParseError("headers over limit")
                return messages
            head, _ = parts
            separator = 4 if self._buffer[len(head) : len(head) + 4] == b"\r\n\r\n" else 2
            message = parse_head(head)
            length = content_length(message) or 0
            total = len(head) + separator + length
            if len(self._buffer) < total:
                if total > MAX_MESSAGE_BYTES:
                    raise SipParseError("message too large")
                return messages
            message.body = bytes(self._buffer[len(head) + separator : total])
            del self._buffer[:total]
            messages.append(message)
