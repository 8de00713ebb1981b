"""`wall bench soak`: the hub bench's load on the production layout for minutes, with faults injected.

The cluster (bench/cluster.py: 2 web + dispatchd + sip on a private Redis and PostgreSQL) runs for
`--minutes`. The whole time, bench/faults.py's Traffic sends real cases and positions through the API and
resuming hub clients on both web processes (one behind a slow link) record every case event. The time
is cut into cycles of `--fault-every` seconds: a load window in which the hub bench's own phase
(bench/hub.py: its publisher, WebSocket client processes and /proc measurement, against one web
process, alternately) measures case latency, position staleness and lost events; then one fault (the
kinds of bench/faults.py in turn) under Traffic's load, checked as the fault suite checks it. The hub
bench's clients do not resume, so the hub figures come from the load windows only; loss, duplicates and
recovery come from Traffic across everything. RSS growth of a process = its RSS at the end against its
RSS after the first load window (or after its last restart). Each window also records the CPU share
(% of one core) of every cluster process, Redis, PostgreSQL (all its processes on the machine), this
bench process and, from the hub phase, the whole host (busy and stolen, % of all cores), to show where the
time went. The last line printed is JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import emit
from bench.cluster import Cluster
from bench.faults import FAULTS, Traffic, check, duplicated, lost, run_fault
from bench.hub import Load, _phase
from bench.procs import cpu_seconds

FAULT_LOAD_S = 6.0


def _log(message: str) -> None:
    print(f"bench soak: {message}", file=sys.stderr, flush=True)


class RssTrack:
    """RSS per process incarnation: its baseline once it has served load (warm-up is not growth), its latest RSS."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.runs: dict[tuple[str, int], list[float]] = {}  # (name, pid) -> [baseline, latest]
        self.last: dict[str, float] = {}

    def warmed(self, names: list[str]) -> None:
        """These processes have served load: a baseline for each incarnation that has none yet."""
        current = self.cluster.rss_mb()
        for name in names:
            if name in current:
                self.runs.setdefault((name, self.cluster.procs[name].proc.pid), [current[name], current[name]])

    def sample(self) -> None:
        """Read every process's RSS."""
        for name, rss in self.cluster.rss_mb().items():
            self.last[name] = rss
            run = self.runs.get((name, self.cluster.procs[name].proc.pid))
            if run is not None:
                run[1] = rss

    def growth_pct(self) -> dict[str, float]:
        """Per process, the largest RSS growth in % of any incarnation since its warmed baseline."""
        growth: dict[str, float] = {}
        for (name, _), (base, latest) in self.runs.items():
            if base:
                growth[name] = max(growth.get(name, -100.0), round(100 * (latest / base - 1), 1))
        return growth


def _cpu_now(cluster: Cluster) -> dict[str, float]:
    """CPU seconds so far of each process that a window's CPU shares are taken of."""
    pids = {name: proc.proc.pid for name, proc in cluster.procs.items()}
    if cluster.redis.proc is not None:
        pids["redis"] = cluster.redis.proc.pid
    pids["bench"] = os.getpid()
    seconds = {name: cpu_seconds(pid) for name, pid in pids.items()}
    postgres = [int(d.name) for d in Path("/proc").iterdir() if d.name.isdigit() and _comm(d) == "postgres"]
    seconds["postgres"] = sum(map(cpu_seconds, postgres))
    return seconds


def _comm(proc_dir: Path) -> str:
    try:
        return (proc_dir / "comm").read_text().strip()
    except OSError:
        return ""


def _cpu_pct(before: dict[str, float], after: dict[str, float], elapsed: float) -> dict[str, float]:
    """% of one core each process used between two _cpu_now readings (processes restarted meanwhile left out)."""
    return {name: round(100 * (after[name] - before[name]) / elapsed, 1)
            for name in after if name in before and after[name] >= before[name]}


async def _soak(cluster: Cluster, args: argparse.Namespace, data_dir: Path) -> dict[str, Any]:
    traffic = await Traffic(cluster, slow_rate=args.slow_rate, position_period_s=args.ingest_every).start()
    rss = RssTrack(cluster)
    windows, rows = [], []
    end = time.time() + args.minutes * 60
    try:
        for cycle in range(10_000):
            window_s = max(5.0, min(args.fault_every - FAULT_LOAD_S - 8, end - time.time() - FAULT_LOAD_S - 8))
            load = Load(args.clients, args.client_processes, window_s, args.positions_per_s, args.cases_per_s,
                        args.workers, args.position_batch)
            name = f"web{cycle % 2 + 1}"
            server = cluster.procs[name]
            url = f"ws://127.0.0.1:{server.port}/ws/hub?token={cluster.seed['wall']}"
            _log(f"cycle {cycle + 1}: {window_s:.0f} s of hub load on {name}")
            cpu0, t0 = _cpu_now(cluster), time.time()
            figures = await asyncio.to_thread(_phase, server, url, True, load, cluster.redis.url, data_dir)
            cpu1, elapsed = _cpu_now(cluster), time.time() - t0
            cpu = _cpu_pct(cpu0, cpu1, elapsed)
            windows.append(figures | {"server": name, "cpu_pct": cpu})
            rss.sample()
            rss.warmed([name, "dispatchd", "sip"])
            fault = FAULTS[cycle % len(FAULTS)]
            _log(f"cycle {cycle + 1}: {fault}")
            rows.append(await run_fault(traffic, fault, FAULT_LOAD_S))
            rss.sample()
            if time.time() + 10 > end:
                break
        await traffic.stop_load()
        for _ in range(10):  # the slow client may still be catching up
            final = await check(traffic, time.time() - 15, settle_s=3.0)
            if lost(final) == 0:
                break
        rss.sample()
    finally:
        await traffic.stop()
    return {"windows": windows, "rows": rows, "final": final, "rss_growth_pct": rss.growth_pct(),
            "rss_mb": rss.last, "positions_accepted": traffic.positions_accepted,
            "skew_answers": dict(traffic.skew_answers)}


def _worst(windows: list[dict], key: str) -> float | None:
    values = [w[key] for w in windows if w.get(key) is not None]
    return max(values) if values else None


def main(argv: list[str], as_json: bool = False) -> int:
    """Run the soak; the last line printed is one JSON object of figures."""
    parser = argparse.ArgumentParser(prog="wall bench soak", description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--fault-every", type=float, default=60.0, help="seconds per load window + fault cycle")
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--client-processes", type=int, default=2)
    parser.add_argument("--positions-per-s", type=float, default=5000.0)
    parser.add_argument("--cases-per-s", type=float, default=50.0)
    parser.add_argument("--workers", type=int, default=5000)
    parser.add_argument("--position-batch", type=int, default=250)
    parser.add_argument("--slow-rate", type=int, default=300_000, help="bytes/s of the slow client's link")
    parser.add_argument("--ingest-every", type=float, default=0.5,
                        help="seconds between POST /api/positions batches of every worker (0: none)")
    parser.add_argument("--keep", action="store_true", help="keep the work dir with the process logs")
    parser.add_argument("--json", action="store_true", help="print only the JSON line")
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="bench-soak-"))
    cluster = Cluster(workdir)
    try:
        cluster.start()
        result = asyncio.run(_soak(cluster, args, workdir))
    finally:
        with contextlib.suppress(Exception):
            cluster.stop()
        if args.keep:
            _log(f"logs kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    windows, rows, final = result["windows"], result["rows"], result["final"]
    hub_lost = sum(w["lost_case_events"] for w in windows)
    hub_dups = sum(w["duplicate_case_events"] for w in windows)
    figures = {
        "minutes": args.minutes, "clients": args.clients, "positions_per_s": args.positions_per_s,
        "cases_per_s": args.cases_per_s, "api_cases_accepted": final["cases_accepted"],
        "lost": lost(final) + hub_lost, "duplicates": duplicated(final) + hub_dups,
        "rss_growth_pct": result["rss_growth_pct"], "rss_mb": result["rss_mb"],
        "case_p99_ms": _worst(windows, "case_p99_ms"),
        "position_staleness_p99_ms": _worst(windows, "position_staleness_p99_ms"),
        "windows": [{k: w[k] for k in ("server", "window_s", "case_p99_ms", "position_staleness_p99_ms",
                                        "lost_case_events", "duplicate_case_events", "server_cpu_pct",
                                        "client_cpu_pct", "publisher_cpu_pct", "cpu_pct", "host_busy_pct",
                                        "host_steal_pct", "host_load_1m")}
                    for w in windows],
        "faults": [{k: v for k, v in r.items() if k not in ("figures", "detail")} for r in rows],
        "checks": final, "positions_accepted": result["positions_accepted"], "skew_answers": result["skew_answers"],
    }
    growth = result["rss_growth_pct"].values()
    figures["targets_met"] = {
        "lost_zero": figures["lost"] == 0, "duplicates_zero": figures["duplicates"] == 0,
        "rss_growth_le_10pct": bool(growth) and max(growth) <= 10,
        "case_p99_le_100ms": (figures["case_p99_ms"] or 1e9) <= 100,
        "staleness_p99_le_1s": (figures["position_staleness_p99_ms"] or 1e9) <= 1000,
    }
    emit(figures, as_json or args.json)
    return 0
