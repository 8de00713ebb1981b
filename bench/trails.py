"""`wall bench trails`: trail writes for playback at 5,000 position updates/s, against PostgreSQL or SQLite.

A producer thread offers fixes of `--workers` workers at `--rate` per second (5,000 workers at 1 Hz by
default), each stamped with the moment it was accepted. Writer threads take what has arrived, up to
`--batch-max` rows or `--flush-ms` after the first one, and store it through the position pipeline's own
trail steps (`dedupe`: which keys are stored already, then `trail`: the bulk insert in one transaction).
Write lag is commit time minus accept time per fix. After `--seconds` the offer stops; `backlog_end` is
what was accepted but not yet written at that moment, and the writers drain it. `db_cpu_pct` is the CPU of
the PostgreSQL backends serving the writers (from /proc; same host only), `bench_cpu_pct` this process's.

The database is DATABASE_URL, else a private PostgreSQL database `wall_bench_trails` on 127.0.0.1 (created
and migrated here); `--sqlite` uses a scratch SQLite file. Only the bench's own workers (codes `bench-trail-…`)
and their fixes are created and removed. `run_trail_load` runs the same load from another program (in a
fresh process: it sets up Django for that database). The last line is JSON.
"""

from __future__ import annotations

import argparse
import os
import queue
import random
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

PRIVATE_DB = "postgres://postgres:postgres@127.0.0.1:5432/wall_bench_trails"
CODE_PREFIX = "bench-trail-"
ORIGIN = (22.71, 114.35)


def _log(message: str) -> None:
    print(f"bench trails: {message}", file=sys.stderr, flush=True)


def _ensure_postgres_database(url: str) -> None:
    """Create the database named in `url` when it does not exist (connecting to `postgres` to do so)."""
    import dj_database_url
    import psycopg

    conf = dj_database_url.parse(url)
    name = conf["NAME"]
    admin = psycopg.connect(host=conf["HOST"] or "127.0.0.1", port=conf["PORT"] or 5432, user=conf["USER"],
                            password=conf["PASSWORD"], dbname="postgres", autocommit=True)
    with admin:
        if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            admin.execute(f'CREATE DATABASE "{name}"')
            _log(f"created database {name}")


def _django(database_url: str) -> str:
    """Set up Django on `database_url`, migrated; the engine's short name."""
    if database_url.startswith(("postgres://", "postgresql://")):
        _ensure_postgres_database(database_url)
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wall.settings")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", interactive=False, verbosity=0)
    from django.db import connection

    return connection.vendor


def _bench_workers(n: int) -> list[int]:
    """Ids of the bench's `n` workers, created when missing, with no stored fixes."""
    from dispatchd.models import Worker

    _remove_bench_workers()
    Worker.objects.bulk_create(
        [Worker(code=f"{CODE_PREFIX}{i:06d}", name=f"bench {i}", state="on_duty") for i in range(n)], batch_size=2000
    )
    return list(Worker.objects.filter(code__startswith=CODE_PREFIX).order_by("pk").values_list("pk", flat=True))


def _remove_bench_workers() -> None:
    from dispatchd.models import PositionFix, Worker

    PositionFix.objects.filter(worker__code__startswith=CODE_PREFIX).delete()
    Worker.objects.filter(code__startswith=CODE_PREFIX).delete()


@dataclass
class Tally:
    """What the writers did: per batch its rows and write time, per fix its lag (weighted by chunks)."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    written: int = 0
    batch_rows: list[int] = field(default_factory=list)
    write_ms: list[float] = field(default_factory=list)
    lags: list[tuple[float, int]] = field(default_factory=list)  # (lag seconds, fixes)
    backend_cpu_s: float = 0.0


def _backend_cpu_s(pid: int) -> float | None:
    """CPU seconds used so far by a local process (a PostgreSQL backend), or None when not readable."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _writer(chunks: queue.Queue, tally: Tally, batch_max: int, flush_s: float, dedupe: bool) -> None:
    """Store arriving fixes in batches through the pipeline's trail steps until a None chunk arrives."""
    from django.db import connection

    from dispatchd.field import pipeline
    from dispatchd.field.store import MemoryStore

    store = MemoryStore()
    pid = None
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            pid = cursor.fetchone()[0]
    cpu_before = _backend_cpu_s(pid) if pid else None
    done = False
    while not done:
        first = chunks.get()
        if first is None:
            break
        held, rows = [first], len(first[1])
        deadline = first[0] + flush_s
        while rows < batch_max:
            try:
                chunk = chunks.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                break
            if chunk is None:
                done = True
                break
            held.append(chunk)
            rows += len(chunk[1])
        fixes = [f for _, chunk_fixes in held for f in chunk_fixes]
        began = time.monotonic()
        batch = pipeline.Batch(store, fixes, received=len(fixes))
        if dedupe:
            pipeline.dedupe(batch)
        pipeline.trail(batch)
        committed = time.monotonic()
        with tally.lock:
            tally.written += len(fixes)
            tally.batch_rows.append(len(fixes))
            tally.write_ms.append((committed - began) * 1000)
            tally.lags += [(committed - accepted, len(chunk_fixes)) for accepted, chunk_fixes in held]
    if pid and cpu_before is not None and (cpu_after := _backend_cpu_s(pid)) is not None:
        with tally.lock:
            tally.backend_cpu_s += cpu_after - cpu_before
    connection.close()


def _offer(chunks: queue.Queue, ids: list[int], rate: float, seconds: float, tick_s: float = 0.01) -> int:
    """Offer fixes round-robin over the workers at `rate` per second for `seconds`; how many were offered."""
    from dispatchd.field.state import Fix

    rng = random.Random(7)
    places = {w: (ORIGIN[0] + rng.uniform(-0.05, 0.05), ORIGIN[1] + rng.uniform(-0.06, 0.06)) for w in ids}
    begin = time.monotonic()
    offered, cursor = 0, 0
    while (now := time.monotonic()) - begin < seconds:
        due = int(rate * (now - begin)) - offered
        if due > 0:
            at = datetime.now(UTC)
            fixes = []
            for _ in range(due):
                worker = ids[cursor % len(ids)]
                cursor += 1
                lat, lon = places[worker]
                lat, lon = lat + rng.uniform(-2e-5, 2e-5), lon + rng.uniform(-2e-5, 2e-5)
                places[worker] = (lat, lon)
                fixes.append(Fix(worker, lat, lon, at, accuracy_m=8.0, speed_mps=1.5, heading=rng.uniform(0, 360)))
            chunks.put((now, fixes))
            offered += due
        time.sleep(max(0.0, tick_s - (time.monotonic() - now)))
    return offered


def _weighted_percentile(samples: list[tuple[float, int]], share: float) -> float:
    ordered = sorted(samples)
    total = sum(n for _, n in ordered)
    seen = 0
    for value, n in ordered:
        seen += n
        if seen >= share * total:
            return value
    return ordered[-1][0] if ordered else 0.0


def trail_load(rate: float = 5000, seconds: float = 30, workers: int = 5000, writers: int = 1,
               batch_max: int = 5000, flush_ms: float = 200, dedupe: bool = True) -> dict[str, Any]:
    """Run the load on the database Django is set up for; its figures."""
    from django.db import connection

    ids = _bench_workers(workers)
    chunks: queue.Queue = queue.Queue()
    tally = Tally()
    threads = [threading.Thread(target=_writer, args=(chunks, tally, batch_max, flush_ms / 1000, dedupe),
                                daemon=True, name=f"trail-writer-{n}") for n in range(writers)]
    for thread in threads:
        thread.start()
    cpu_began, wall_began = time.process_time(), time.monotonic()
    offered = _offer(chunks, ids, rate, seconds)
    offered_s = time.monotonic() - wall_began
    with tally.lock:
        backlog_end = offered - tally.written
        written_in_time = tally.written
    for _ in threads:
        chunks.put(None)
    for thread in threads:
        thread.join()
    drain_s = time.monotonic() - wall_began - offered_s
    cpu_s = time.process_time() - cpu_began
    from dispatchd.models import PositionFix

    stored = PositionFix.objects.filter(worker_id__in=ids).count()
    _remove_bench_workers()
    connection.close()
    lag_p50, lag_p99 = _weighted_percentile(tally.lags, 0.5), _weighted_percentile(tally.lags, 0.99)
    figures = {
        "engine": connection.vendor, "workers": workers, "rate": rate, "seconds": round(offered_s, 1),
        "offered": offered, "offered_per_s": round(offered / offered_s), "written": tally.written,
        "stored_rows": stored, "written_per_s": round(written_in_time / offered_s),
        "write_lag_p50_ms": round(lag_p50 * 1000, 1), "write_lag_p99_ms": round(lag_p99 * 1000, 1),
        "write_lag_max_ms": round(max((lag for lag, _ in tally.lags), default=0) * 1000, 1),
        "batches": len(tally.batch_rows), "batch_rows_p50": int(statistics.median(tally.batch_rows or [0])),
        "batch_rows_max": max(tally.batch_rows, default=0),
        "batch_write_p50_ms": round(statistics.median(tally.write_ms or [0]), 1),
        "batch_write_max_ms": round(max(tally.write_ms, default=0), 1),
        "backlog_end": backlog_end, "drain_s": round(drain_s, 2),
        "db_cpu_pct": round(100 * tally.backend_cpu_s / offered_s, 1) if connection.vendor == "postgresql" else None,
        "bench_cpu_pct": round(100 * cpu_s / (offered_s + drain_s), 1),
        "writers": writers, "flush_ms": flush_ms, "dedupe": dedupe,
    }
    # Kept up: everything written, no more than about one flush interval behind at the end, lag bounded.
    figures["kept_up"] = (
        stored == offered and backlog_end <= max(batch_max, rate * flush_ms / 1000 * 2) and lag_p99 <= 1.0
    )
    return figures


def run_trail_load(database_url: str, rate: float = 5000, seconds: float = 30, conn: Connection | None = None,
                   **options: Any) -> dict[str, Any]:
    """Run the trail write load against `database_url` in this (fresh) process; figures, also sent on `conn`.

    `options` are those of `trail_load` (workers, writers, batch_max, flush_ms, dedupe).
    """
    _django(database_url)
    figures = trail_load(rate, seconds, **options)
    if conn is not None:
        conn.send(figures)
    return figures


def main(argv: list[str], as_json: bool = False) -> int:
    """`wall bench trails [--seconds S] [--rate R] [--workers N] [--sqlite] …`."""
    from bench import emit

    parser = argparse.ArgumentParser(prog="wall bench trails")
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--rate", type=float, default=5000, help="position updates offered per second")
    parser.add_argument("--workers", type=int, default=5000)
    parser.add_argument("--writers", type=int, default=1, help="writer threads (each its own connection)")
    parser.add_argument("--batch-max", type=int, default=5000, help="most rows per write")
    parser.add_argument("--flush-ms", type=float, default=200, help="longest wait after a batch's first fix")
    parser.add_argument("--no-dedupe", action="store_true", help="skip the pipeline's stored-key lookup")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL") or PRIVATE_DB)
    parser.add_argument("--sqlite", action="store_true", help="a scratch SQLite file instead of PostgreSQL")
    args = parser.parse_args(argv)
    options = {"workers": args.workers, "writers": args.writers, "batch_max": args.batch_max,
               "flush_ms": args.flush_ms, "dedupe": not args.no_dedupe}
    with tempfile.TemporaryDirectory(prefix="wall-bench-trails-") as scratch:
        os.environ.setdefault("WALL_DATA_DIR", scratch)
        url = f"sqlite:///{scratch}/trails.sqlite3" if args.sqlite else args.database_url
        _log(f"{args.rate:g} updates/s for {args.seconds:g} s from {args.workers} workers into {url.split('@')[-1]}")
        figures = run_trail_load(url, args.rate, args.seconds, **options)
    emit(figures, as_json)
    return 0 if figures["kept_up"] else 1
