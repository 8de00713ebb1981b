"""Latency histograms: constant memory, mergeable, percentiles to a quarter of a millisecond."""

from __future__ import annotations

BUCKET_MS = 0.25
MAX_MS = 2_000.0
_BUCKETS = int(MAX_MS / BUCKET_MS)


class LatencyHistogram:
    """Counts of latencies in 0.25 ms buckets up to 2 s (anything longer lands in the last bucket)."""

    __slots__ = ("counts", "total", "max_ms")

    def __init__(self) -> None:
        self.counts = [0] * (_BUCKETS + 1)
        self.total = 0
        self.max_ms = 0.0

    def add(self, seconds: float) -> None:
        """Record one latency given in seconds (negative values count as zero)."""
        ms = max(seconds * 1000.0, 0.0)
        self.counts[min(int(ms / BUCKET_MS), _BUCKETS)] += 1
        self.total += 1
        self.max_ms = max(self.max_ms, ms)

    def merge(self, other: LatencyHistogram) -> None:
        """Add another histogram's counts to this one."""
        self.counts = [a + b for a, b in zip(self.counts, other.counts, strict=True)]
        self.total += other.total
        self.max_ms = max(self.max_ms, other.max_ms)

    def percentile(self, fraction: float) -> float | None:
        """The latency in ms below which `fraction` of the samples lie (bucket upper edge); None if empty."""
        if not self.total:
            return None
        rank = max(1, round(fraction * self.total))
        seen = 0
        for index, count in enumerate(self.counts):
            seen += count
            if seen >= rank:
                return min((index + 1) * BUCKET_MS, self.max_ms)
        return self.max_ms

    def summary(self) -> dict[str, float | int | None]:
        """count, p50, p99 and max in ms."""
        return {"count": self.total, "p50_ms": self.percentile(0.5), "p99_ms": self.percentile(0.99),
                "max_ms": round(self.max_ms, 3) if self.total else None}
