"""MANSCDP (GB/T 28181 Application/MANSCDP+xml): parse any message, build the ones we send or simulate.

A parsed message keeps its root (Query/Response/Notify/Control), CmdType, SN and DeviceID, a flat
``fields`` map of the other leaves (nested ones as ``Info.Longitude``) and the ``items`` of its list
element (DeviceList, AlarmList...). Typed views cover what the platform needs: catalog channels and alarms.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from video.gb28181.xmlsafe import XmlError, parse_xml, to_xml_bytes

CONTENT_TYPE = "Application/MANSCDP+xml"
ROOTS = ("Query", "Response", "Notify", "Control")
MAX_SN = 2**31 - 1

Leaf = str | int | float
FieldValue = Leaf | Sequence[tuple[str, "FieldValue"]]


class ManscdpError(ValueError):
    """A body that is not a usable MANSCDP message."""


@dataclass
class ManscdpMessage:
    """One MANSCDP message."""

    root: str
    cmd_type: str
    sn: int
    device_id: str
    fields: dict[str, str] = field(default_factory=dict)
    items: list[dict[str, str]] = field(default_factory=list)
    sum_num: int | None = None

    def int_field(self, name: str, default: int | None = None) -> int | None:
        """A field read as an int (default when missing or not a number)."""
        return _to_int(self.fields.get(name), default)


def _to_int(value: str | None, default: int | None = None) -> int | None:
    try:
        return int(value.strip()) if value is not None else default
    except ValueError:
        return default


def _to_float(value: str | None) -> float | None:
    try:
        number = float(value.strip()) if value is not None else None
    except ValueError:
        return None
    return number if number is not None and -1e7 < number < 1e7 else None


def _flatten(element: ET.Element, prefix: str, out: dict[str, str]) -> None:
    for child in element:
        key = f"{prefix}{child.tag}"
        if len(child):
            _flatten(child, key + ".", out)
        else:
            out[key] = (child.text or "").strip()


def parse_manscdp(body: bytes) -> ManscdpMessage:
    """Parse a MANSCDP body (GB2312/GB18030 or UTF-8); raises ManscdpError."""
    try:
        root = parse_xml(body)
    except XmlError as exc:
        raise ManscdpError(str(exc)) from exc
    if root.tag not in ROOTS:
        raise ManscdpError(f"unknown MANSCDP root {root.tag!r}")
    cmd_type = (root.findtext("CmdType") or "").strip()
    if not cmd_type:
        raise ManscdpError("missing CmdType")
    sn = _to_int(root.findtext("SN"), 0) or 0
    message = ManscdpMessage(root.tag, cmd_type, min(max(sn, 0), MAX_SN), (root.findtext("DeviceID") or "").strip())
    for child in root:
        if child.tag in ("CmdType", "SN", "DeviceID"):
            continue
        if child.tag == "SumNum":
            message.sum_num = _to_int(child.text)
        elif len(child) and all(item.tag == "Item" for item in child):
            for item in child:
                values: dict[str, str] = {}
                _flatten(item, "", values)
                message.items.append(values)
        elif len(child):
            _flatten(child, child.tag + ".", message.fields)
        else:
            message.fields[child.tag] = (child.text or "").strip()
    return message


def _append(parent: ET.Element, name: str, value: FieldValue) -> None:
    element = ET.SubElement(parent, name)
    if isinstance(value, (str, int, float)):
        element.text = str(value)
    else:
        for child_name, child_value in value:
            _append(element, child_name, child_value)


def build_manscdp(
    root: str,
    cmd_type: str,
    sn: int,
    device_id: str,
    fields: Iterable[tuple[str, FieldValue]] = (),
    *,
    items: Sequence[Sequence[tuple[str, FieldValue]]] | None = None,
    list_tag: str = "DeviceList",
    sum_num: int | None = None,
    encoding: str = "GB2312",
) -> bytes:
    """Build a MANSCDP body; ``items`` become ``<list_tag Num=n><Item>..`` after the fields."""
    element = ET.Element(root)
    _append(element, "CmdType", cmd_type)
    _append(element, "SN", sn)
    _append(element, "DeviceID", device_id)
    if sum_num is not None:
        _append(element, "SumNum", sum_num)
    for name, value in fields:
        _append(element, name, value)
    if items is not None:
        container = ET.SubElement(element, list_tag, Num=str(len(items)))
        for item in items:
            _append(container, "Item", item)
    return to_xml_bytes(element, encoding)


@dataclass
class CatalogChannel:
    """One catalog entry (a camera channel, or a parent device/organisation)."""

    device_id: str
    name: str = ""
    manufacturer: str = ""
    model: str = ""
    civil_code: str = ""
    address: str = ""
    parent_id: str = ""
    status: str = "ON"
    longitude: float | None = None
    latitude: float | None = None
    ptz_type: int | None = None

    @classmethod
    def from_item(cls, item: dict[str, str]) -> CatalogChannel:
        """Read a catalog ``<Item>``."""
        return cls(
            device_id=item.get("DeviceID", ""),
            name=item.get("Name", ""),
            manufacturer=item.get("Manufacturer", ""),
            model=item.get("Model", ""),
            civil_code=item.get("CivilCode", ""),
            address=item.get("Address", ""),
            parent_id=item.get("ParentID", ""),
            status=item.get("Status", "ON") or "ON",
            longitude=_to_float(item.get("Longitude")),
            latitude=_to_float(item.get("Latitude")),
            ptz_type=_to_int(item.get("Info.PTZType")),
        )

    def to_item(self) -> list[tuple[str, FieldValue]]:
        """The ``<Item>`` children for this channel."""
        item: list[tuple[str, FieldValue]] = [
            ("DeviceID", self.device_id), ("Name", self.name), ("Manufacturer", self.manufacturer),
            ("Model", self.model), ("Owner", "Owner"), ("CivilCode", self.civil_code), ("Address", self.address),
            ("Parental", 0), ("ParentID", self.parent_id), ("SafetyWay", 0), ("RegisterWay", 1), ("Secrecy", 0),
            ("Status", self.status),
        ]
        if self.longitude is not None and self.latitude is not None:
            item += [("Longitude", f"{self.longitude:.6f}"), ("Latitude", f"{self.latitude:.6f}")]
        if self.ptz_type is not None:
            item.append(("Info", [("PTZType", self.ptz_type)]))
        return item


@dataclass
class Alarm:
    """An Alarm notify from a device."""

    device_id: str
    sn: int
    priority: int | None
    method: int | None
    time: str
    description: str
    longitude: float | None
    latitude: float | None
    alarm_type: int | None

    @classmethod
    def from_message(cls, message: ManscdpMessage) -> Alarm:
        """Read an ``<Notify><CmdType>Alarm``."""
        return cls(
            device_id=message.device_id,
            sn=message.sn,
            priority=message.int_field("AlarmPriority"),
            method=message.int_field("AlarmMethod"),
            time=message.fields.get("AlarmTime", ""),
            description=message.fields.get("AlarmDescription", ""),
            longitude=_to_float(message.fields.get("Longitude")),
            latitude=_to_float(message.fields.get("Latitude")),
            alarm_type=message.int_field("Info.AlarmType"),
        )


def keepalive(device_id: str, sn: int) -> bytes:
    """``Notify/Keepalive`` with Status OK."""
    return build_manscdp("Notify", "Keepalive", sn, device_id, [("Status", "OK")])


def query(cmd_type: str, device_id: str, sn: int) -> bytes:
    """A ``Query`` of Catalog, DeviceInfo or DeviceStatus."""
    return build_manscdp("Query", cmd_type, sn, device_id)


def catalog_responses(device_id: str, sn: int, channels: Sequence[CatalogChannel], per_message: int = 4) -> list[bytes]:
    """The Catalog response split over several messages, each carrying SumNum."""
    per_message = max(1, per_message)
    chunks = [channels[start : start + per_message] for start in range(0, len(channels), per_message)] or [[]]
    return [
        build_manscdp("Response", "Catalog", sn, device_id, items=[c.to_item() for c in chunk], sum_num=len(channels))
        for chunk in chunks
    ]


def device_info_response(
    device_id: str, sn: int, *, name: str, manufacturer: str, model: str, firmware: str, channels: int
) -> bytes:
    """``Response/DeviceInfo``."""
    fields: list[tuple[str, FieldValue]] = [
        ("DeviceName", name), ("Result", "OK"), ("Manufacturer", manufacturer), ("Model", model),
        ("Firmware", firmware), ("Channel", channels),
    ]
    return build_manscdp("Response", "DeviceInfo", sn, device_id, fields)


def device_status_response(device_id: str, sn: int, *, online: bool = True, recording: bool = False) -> bytes:
    """``Response/DeviceStatus``."""
    fields: list[tuple[str, FieldValue]] = [
        ("Result", "OK"), ("Online", "ONLINE" if online else "OFFLINE"), ("Status", "OK"),
        ("Encode", "ON"), ("Record", "ON" if recording else "OFF"),
    ]
    return build_manscdp("Response", "DeviceStatus", sn, device_id, fields)


def result_response(cmd_type: str, device_id: str, sn: int, ok: bool = True) -> bytes:
    """A ``Response`` carrying only ``Result`` (answers DeviceControl and Alarm)."""
    return build_manscdp("Response", cmd_type, sn, device_id, [("Result", "OK" if ok else "ERROR")])


def alarm_notify(
    device_id: str,
    sn: int,
    *,
    priority: int,
    method: int,
    time: str,
    description: str = "",
    longitude: float | None = None,
    latitude: float | None = None,
    alarm_type: int | None = None,
) -> bytes:
    """``Notify/Alarm``."""
    fields: list[tuple[str, FieldValue]] = [
        ("AlarmPriority", priority), ("AlarmMethod", method), ("AlarmTime", time), ("AlarmDescription", description),
    ]
    if longitude is not None and latitude is not None:
        fields += [("Longitude", f"{longitude:.6f}"), ("Latitude", f"{latitude:.6f}")]
    if alarm_type is not None:
        fields.append(("Info", [("AlarmType", alarm_type)]))
    return build_manscdp("Notify", "Alarm", sn, device_id, fields)


def ptz_control(device_id: str, sn: int, ptz_cmd: str) -> bytes:
    """``Control/DeviceControl`` carrying a PTZCmd hex string."""
    fields: list[tuple[str, FieldValue]] = [("PTZCmd", ptz_cmd), ("Info", [("ControlPriority", 5)])]
    return build_manscdp("Control", "DeviceControl", sn, device_id, fields)


def iframe_request(device_id: str, sn: int) -> bytes:
    """``Control/DeviceControl`` asking for an I-frame (the standard spells the element ``IFameCmd``)."""
    return build_manscdp("Control", "DeviceControl", sn, device_id, [("IFameCmd", "Send")])
