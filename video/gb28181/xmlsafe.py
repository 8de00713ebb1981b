"""Safe XML parsing for device bodies: charset from the declaration, no DTDs or entities, size limits.

Built directly on expat: a DOCTYPE is refused outright, so entity-expansion bombs and external entities
cannot happen; depth and element count are bounded.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from xml.parsers import expat

MAX_XML_BYTES = 256 * 1024
MAX_DEPTH = 16
MAX_ELEMENTS = 20_000

_DECLARATION = re.compile(rb"^\s*<\?xml[^>]*\?>", re.IGNORECASE)
_ENCODING = re.compile(rb"""encoding\s*=\s*["']([A-Za-z0-9._-]{1,40})["']""", re.IGNORECASE)
_GB_FAMILY = {"gb2312", "gbk", "gb18030", "cp936", "euc-cn", "gb_2312-80"}


class XmlError(ValueError):
    """Malformed, oversized or unsafe XML."""


def declared_encoding(body: bytes) -> str | None:
    """The encoding named in the XML declaration, lower-cased, or None."""
    declaration = _DECLARATION.match(body)
    if not declaration:
        return None
    match = _ENCODING.search(declaration.group(0))
    return match.group(1).decode("ascii").lower() if match else None


def decode_xml(body: bytes) -> str:
    """Decode a body honouring its declared charset (GB2312 read as GB18030), with fallbacks; drops the declaration."""
    body = body.removeprefix(b"\xef\xbb\xbf")
    encoding = declared_encoding(body) or "utf-8"
    if encoding in _GB_FAMILY:
        encoding = "gb18030"
    text = None
    for candidate in (encoding, "utf-8", "gb18030"):
        try:
            text = body.decode(candidate)
            break
        except (UnicodeDecodeError, LookupError):
            continue
    if text is None:
        text = body.decode("gb18030", errors="replace")
    return _DECLARATION.sub(b"", text.encode("utf-8"), count=1).decode("utf-8")


def parse_xml(body: bytes) -> ET.Element:
    """Parse a body into an element tree; raises XmlError for anything unsafe or malformed."""
    if len(body) > MAX_XML_BYTES:
        raise XmlError("XML body too large")
    text = decode_xml(body)
    builder = ET.TreeBuilder()
    parser = expat.ParserCreate("utf-8")
    depth = 0
    count = 0

    def refuse(*_args: object) -> None:
        raise XmlError("DTDs and entity declarations are not allowed")

    def start(tag: str, attrs: dict[str, str]) -> None:
        nonlocal depth, count
        depth += 1
        count += 1
        if depth > MAX_DEPTH or count > MAX_ELEMENTS:
            raise XmlError("XML too deep or too many elements")
        builder.start(tag, attrs)

    def end(tag: str) -> None:
        nonlocal depth
        depth -= 1
        builder.end(tag)

    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.UnparsedEntityDeclHandler = refuse
    parser.ExternalEntityRefHandler = refuse  # type: ignore[assignment]
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = builder.data
    try:
        parser.Parse(text.encode("utf-8"), True)
        return builder.close()
    except expat.ExpatError as exc:
        raise XmlError(str(exc)) from exc
    except (AssertionError, IndexError) as exc:  # TreeBuilder on an unbalanced document
        raise XmlError("malformed XML") from exc


def to_xml_bytes(root: ET.Element, encoding: str = "GB2312") -> bytes:
    """Serialise an element with an XML declaration, encoded as declared (GB2312 written via GB18030)."""
    codec = "gb18030" if encoding.lower() in _GB_FAMILY else encoding
    text = ET.tostring(root, encoding="unicode")
    return f'<?xml version="1.0" encoding="{encoding}"?>\r\n{text}\r\n'.encode(codec)
