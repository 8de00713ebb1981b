"""MQTT payloads into reading items for the ingest: strict, bounded, and never more than a ValueError.

A message on `<prefix>/<sensor code>/reading` carries one reading `{"value": 3.2, "at": …}` (`at`
optional: ISO 8601 or epoch seconds; the time of receipt when absent), a list of them, or
`{"items": [...]}`. Items may name their `sensor`; they must when the topic pattern has no `+` level.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from typing import Any

from django.utils import timezone

MAX_PAYLOAD_BYTES = 256 * 1024
MAX_ITEMS = 5000  # as many as one HTTP batch
MAX_ABS_VALUE = 1e9
YEARS = range(2000, 3000)
ITEM_KEYS = {"sensor", "value", "at"}


class BadPayload(ValueError):
    """The message is not a reading or a batch of readings."""


def code_from_topic(pattern: str, topic: str) -> str | None:
    """The topic level that the pattern's first `+` matches (the sensor code), or None without one."""
    levels = pattern.split("/")
    if "+" not in levels:
        return None
    index = levels.index("+")
    parts = topic.split("/")
    return parts[index] if index < len(parts) else None


def _code(value: Any) -> str:
    if not isinstance(value, str) or not 1 <= len(value) <= 32 or "\x00" in value:
        raise BadPayload("sensor must be a code of 1 to 32 characters")
    return value


def _value(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise BadPayload("value must be a number")
    if not math.isfinite(value) or abs(value) > MAX_ABS_VALUE:
        raise BadPayload(f"value must be finite and within ±{MAX_ABS_VALUE:g}")
    return float(value)


def _moment(value: Any, now: datetime) -> datetime:
    try:
        if value is None:
            return now
        if isinstance(value, str):
            at = datetime.fromisoformat(value)
        elif isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
            at = datetime.fromtimestamp(value, tz=UTC)
        else:
            raise BadPayload("at must be ISO 8601 or epoch seconds")
    except (ValueError, OverflowError, OSError) as exc:
        raise BadPayload(f"at is not a time: {exc}") from None
    if at.year not in YEARS:
        raise BadPayload(f"at must lie in the years {YEARS.start}–{YEARS.stop - 1}")
    return timezone.make_aware(at) if timezone.is_naive(at) else at


def _item(entry: Any, topic_code: str | None, now: datetime) -> dict[str, Any]:
    if not isinstance(entry, dict):
        raise BadPayload("a reading is a JSON object")
    if extra := set(entry) - ITEM_KEYS:
        raise BadPayload(f"unknown fields: {sorted(extra)[:5]}")
    sensor = _code(entry.get("sensor", topic_code))
    if topic_code is not None and sensor != topic_code:
        raise BadPayload(f"sensor {sensor!r} does not match the topic's {topic_code!r}")
    return {"sensor": sensor, "value": _value(entry.get("value")), "at": _moment(entry.get("at"), now)}


def parse(payload: bytes, topic_code: str | None, now: datetime | None = None) -> list[dict[str, Any]]:
    """The reading items of a message; BadPayload when it is anything else."""
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise BadPayload(f"payload larger than {MAX_PAYLOAD_BYTES} bytes")
    if topic_code is not None:
        _code(topic_code)
    try:
        data = json.loads(payload)
    except (ValueError, RecursionError) as exc:
        raise BadPayload(f"not JSON: {str(exc)[:100]}") from None
    if isinstance(data, dict) and set(data) == {"items"}:
        data = data["items"]
    entries = data if isinstance(data, list) else [data]
    if not 1 <= len(entries) <= MAX_ITEMS:
        raise BadPayload(f"a batch holds 1 to {MAX_ITEMS} readings")
    now = now or timezone.now()
    return [_item(entry, topic_code, now) for entry in entries]
