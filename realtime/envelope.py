"""The event envelope: one JSON frame per event, serialised once and shared by every receiver."""

from __future__ import annotations

import json
import math
import os
import re
import time
from dataclasses import dataclass, field
from typing import Any

import orjson

_EPOCH_RE = re.compile(r"^[0-9a-z]{1,32}$")


def new_epoch() -> str:
    """A fresh epoch id: base-36 milliseconds plus randomness, never containing ':'."""
    millis = int(time.time() * 1000)
    return _base36(millis) + _base36(int.from_bytes(os.urandom(4), "big"))


def _base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        number, rest = divmod(number, 36)
        out = digits[rest] + out
        if number == 0:
            return out


# Dates and dataclasses go to `default` (str), as the standard encoder's default=str sends them.
_ORJSON_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


def dumps(value: Any) -> str:
    """Compact JSON, UTF-8 kept as is (the wire format of every frame).

    orjson (about 9 times faster: every published event is encoded here) writes NaN and ±Infinity as null;
    what it refuses (integers past 64 bits) goes through the standard encoder, with the same nulls.
    """
    try:
        return orjson.dumps(value, default=str, option=_ORJSON_OPTIONS).decode()
    except TypeError:
        return json.dumps(_finite(value), separators=(",", ":"), ensure_ascii=False, default=str)


def _finite(value: Any) -> Any:
    """`value` with every non-finite float in it (in dicts, lists and tuples) replaced by None."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    return value


def loads(text: str | bytes) -> Any:
    """Parse a frame or part of one: orjson (several times faster), or the standard parser for what it refuses."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:  # NaN and ±Infinity, which frames may carry and the standard parser reads
        return json.loads(text)


def event_tail(event: dict[str, Any], ts: float | None = None) -> str:
    """The part of an event frame after the offset: ts, type and data, closing the object."""
    if not isinstance(event, dict) or not isinstance(event.get("type"), str):
        raise ValueError('an event is {"type": str, "data": dict}')
    data = event.get("data") or {}
    if not isinstance(data, dict):
        raise ValueError("event data must be a dict")
    stamp = round(time.time() if ts is None else ts, 3)
    return f'"ts":{stamp},"type":{dumps(event["type"])},"data":{dumps(data)}}}'


def event_frame(topic: str, epoch: str, offset: int, tail: str) -> str:
    """The complete event frame (redis_streams.py builds the same string inside its Lua script)."""
    return f'{{"op":"event","topic":{dumps(topic)},"epoch":"{epoch}","offset":{offset},{tail}'


@dataclass(slots=True)
class Event:
    """A stored event: where it sits (topic, epoch, offset) and its ready-to-send frame."""

    topic: str
    epoch: str
    offset: int
    frame: str
    _payload: dict[str, Any] | None = field(default=None, repr=False)

    @property
    def payload(self) -> dict[str, Any]:
        """The frame parsed (once) as a dict."""
        if self._payload is None:
            self._payload = loads(self.frame)
        return self._payload


@dataclass(slots=True)
class Page:
    """A read of one topic: its epoch and head offset now, and events after the asked offset."""

    epoch: str
    head: int
    events: list[Event]


def parse_since(value: Any) -> tuple[str, int] | None:
    """Parse "<epoch>:<offset>" into (epoch, offset); ValueError when malformed."""
    if value is None:
        return None
    if not isinstance(value, str) or value.count(":") != 1:
        raise ValueError('since must be "<epoch>:<offset>"')
    epoch, _, offset = value.partition(":")
    if not _EPOCH_RE.match(epoch) or not offset.isdigit() or len(offset) > 18:
        raise ValueError('since must be "<epoch>:<offset>"')
    return epoch, int(offset)
