"""Catalog responses arrive as several messages; collect them up to SumNum, or give up at a deadline."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from video.gb28181.manscdp import CatalogChannel, ManscdpMessage

MAX_CHANNELS = 10_000
MAX_OPEN_CATALOGS = 1_000


@dataclass
class CatalogResult:
    """A device's catalog: its channels, and whether all SumNum of them arrived."""

    device_id: str
    sn: int
    sum_num: int
    channels: list[CatalogChannel]

    @property
    def complete(self) -> bool:
        """Whether every announced channel arrived."""
        return len(self.channels) >= self.sum_num


@dataclass
class _Partial:
    sum_num: int
    started: float
    channels: dict[str, CatalogChannel] = field(default_factory=dict)


class CatalogAccumulator:
    """Accumulates multi-message Catalog responses keyed by (device id, SN)."""

    def __init__(self, timeout: float = 10.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.timeout = timeout
        self.clock = clock
        self._open: dict[tuple[str, int], _Partial] = {}

    def add(self, message: ManscdpMessage) -> CatalogResult | None:
        """Add one Catalog response; returns the result once SumNum channels have arrived."""
        key = (message.device_id, message.sn)
        partial = self._open.get(key)
        if partial is None:
            if len(self._open) >= MAX_OPEN_CATALOGS:
                self._open.pop(next(iter(self._open)))
            sum_num = min(max(message.sum_num or 0, 0), MAX_CHANNELS)
            partial = self._open[key] = _Partial(sum_num, self.clock())
        for item in message.items:
            channel = CatalogChannel.from_item(item)
            if channel.device_id and len(partial.channels) < MAX_CHANNELS:
                partial.channels[channel.device_id] = channel  # a repeated message replaces, never duplicates
        if len(partial.channels) >= partial.sum_num:
            del self._open[key]
            return CatalogResult(message.device_id, message.sn, partial.sum_num, list(partial.channels.values()))
        return None

    def take(self, device_id: str, sn: int) -> CatalogResult | None:
        """Give up waiting on one catalog and return what arrived (None if nothing did)."""
        partial = self._open.pop((device_id, sn), None)
        if partial is None:
            return None
        return CatalogResult(device_id, sn, partial.sum_num, list(partial.channels.values()))

    def expire(self) -> list[CatalogResult]:
        """Close and return every catalog older than the timeout (partial results)."""
        now = self.clock()
        old = [key for key, partial in self._open.items() if now - partial.started >= self.timeout]
        return [result for key in old if (result := self.take(*key)) is not None]
