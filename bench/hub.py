"""`wall bench hub`: the hub on Redis fanning positions and case events out to WebSocket clients.

Two phases under the same load, each against a real server process measured from /proc:
1. hub: `wall serve` with REDIS_URL; a publisher process calls realtime.publish (one per case
   event) and realtime.publish_many (positions in batches, as the ingest pipeline does);
2. baseline: Daphne serving bench/hub_baseline.py, plain Channels (Redis channel layer), one
   `group_send` per event, positions included, to a group holding every client.
The clients (asyncio, `websockets`, in two processes) subscribe to `cases` and `positions` and
record receive times. Case latency = receive time − the publish time carried in the event;
staleness = receive time − each position's own time (`t` of the compact items, 0.1 s resolution, in
the hub phase; `at` in the baseline), sampled on every 10th client: the same frames reach every
client; lost = published case offsets some client never received.
Deliveries = case events + position items received by all clients; efficiency = deliveries per
second of server CPU (user + system) over the publishing window and a drain after it.
The Redis database (default 13) is flushed before each phase. The last line printed is JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import json
import logging
import multiprocessing
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from array import array
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
CENTRE = (22.70, 114.30)
AT_RE = re.compile(rb'"at":([0-9.]+)')
STALE_BINS = 60_000  # 1 ms bins
DRAIN_S = 2.0
SAMPLE_EVERY = 10
BASELINE_IN_FLIGHT = 64

_SETUP = """
import django
django.setup()
from django.core.management import call_command
call_command("migrate", interactive=False, verbosity=0)
from wall.auth import create_token
print(create_token("wall", "bench-hub"))
"""


def _log(message: str) -> None:
    print(f"bench hub: {message}", file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Load:
    """What the publisher sends and how many clients receive it."""

    clients: int
    client_processes: int
    duration_s: float
    positions_per_s: float
    cases_per_s: float
    workers: int
    position_batch: int


# ---- the load ---------------------------------------------------------------------------------


def plan(load: Load) -> list[tuple[float, str, Any]]:
    """When to publish what: (seconds from start, "case", number) and (…, "positions", worker ids)."""
    steps: list[tuple[float, str, Any]] = []
    for n in range(1, int(load.duration_s * load.cases_per_s) + 1):
        steps.append(((n - 1) / load.cases_per_s, "case", n))
    batches = int(load.duration_s * load.positions_per_s / load.position_batch)
    for k in range(batches):
        first = k * load.position_batch
        workers = [1 + (first + i) % load.workers for i in range(load.position_batch)]
        steps.append((first / load.positions_per_s, "positions", workers))
    return sorted(steps, key=lambda step: step[0])


def case_event(n: int) -> dict[str, Any]:
    """A case event about the size of a real one; `pub` is when it was published."""
    data = {
        "id": n, "code": f"C2024{n:08d}", "title": "井盖缺失 manhole cover missing", "category": "部件/公用设施/井盖",
        "severity": "major" if n % 20 == 0 else "normal", "status": "dispatched", "street_id": n % 12,
        "grid_id": n % 670, "lat": CENTRE[0] + (n % 97) / 1000, "lon": CENTRE[1] + (n % 89) / 1000,
        "assignee": {"kind": "worker", "id": n % 5000}, "deadline": "2024-05-01T10:00:00+08:00",
        "pub": time.time(),
    }
    return {"type": "case.dispatched", "data": data}


def position_item(worker: int, at: float) -> dict[str, Any]:
    """A position as the pipeline publishes it (`at` in epoch seconds here, cheap for clients to read)."""
    step = at / 10 + worker
    return {
        "worker_id": worker, "lat": round(CENTRE[0] + (worker % 100) / 400 + (step % 1) / 1000, 6),
        "lon": round(CENTRE[1] + (worker // 100) / 200, 6), "at": round(at, 3), "accuracy_m": 5.0,
        "speed_mps": 1.2, "heading": 90.0, "status": "on_duty", "state": "on_duty",
        "grid_id": worker % 670, "department_id": worker % 20, "street_id": worker % 12,
    }


def _paced(steps: list[tuple[float, str, Any]], start: float) -> Iterator[tuple[float, str, Any]]:
    """Yield each step at its time; the third item is how late it is (s)."""
    for due, kind, arg in steps:
        delay = start + due - time.time()
        if delay > 0:
            time.sleep(delay)
        yield kind, arg, max(0.0, -delay)


def _django(redis_url: str, data_dir: str) -> None:
    os.environ.update(DJANGO_SETTINGS_MODULE="wall.settings", REDIS_URL=redis_url, WALL_DATA_DIR=data_dir)
    os.environ.pop("DATABASE_URL", None)
    import django

    django.setup()


def publish_hub(steps: list, redis_url: str, data_dir: str, out: Connection) -> None:
    """Publisher process of the hub phase: realtime.publish / publish_many on the plan's schedule."""
    _django(redis_url, data_dir)
    from realtime import publish, publish_many

    offsets, positions, late = [], 0, 0.0
    start = time.time() + 0.1
    for kind, arg, lateness in _paced(steps, start):
        late = max(late, lateness)
        if kind == "case":
            offsets.append(publish("cases", case_event(arg)))
        else:
            now = time.time()
            publish_many("positions", [{"type": "position", "data": position_item(w, now)} for w in arg])
            positions += len(arg)
    out.send({"case_offsets": offsets, "positions": positions, "elapsed_s": time.time() - start, "late_s": late})


def publish_baseline(steps: list, redis_url: str, data_dir: str, out: Connection) -> None:
    """Publisher process of the baseline: one Channels group_send per event, at most 64 in flight."""
    _django(redis_url, data_dir)
    logging.getLogger("channels_redis").setLevel(logging.WARNING)  # "over capacity" for every drop
    asyncio.run(_publish_baseline(steps, out))


async def _publish_baseline(steps: list, out: Connection) -> None:
    from channels.layers import get_channel_layer

    from bench.hub_baseline import GROUP, MESSAGE_TYPE
    from realtime.envelope import event_frame, event_tail

    layer = get_channel_layer()
    slots = asyncio.Semaphore(BASELINE_IN_FLIGHT)
    tasks: set[asyncio.Task] = set()

    async def send(frame: str) -> None:
        try:
            await layer.group_send(GROUP, {"type": MESSAGE_TYPE, "text": frame})
        finally:
            slots.release()

    async def fan(topic: str, offset: int, event: dict) -> None:
        await slots.acquire()
        task = asyncio.get_running_loop().create_task(send(event_frame(topic, "base", offset, event_tail(event))))
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    offsets, positions, late = [], 0, 0.0
    start = time.time() + 0.1
    end = start + steps[-1][0] + 1.0  # what it cannot publish in time is left out, as the load would move on
    for due, kind, arg in steps:
        delay = start + due - time.time()
        if delay > 0:
            await asyncio.sleep(delay)
        elif time.time() > end:
            break
        late = max(late, -delay)
        if kind == "case":
            offsets.append(arg)
            await fan("cases", arg, case_event(arg))
        else:
            now = time.time()
            for worker in arg:
                positions += 1
                await fan("positions", positions, {"type": "position", "data": position_item(worker, now)})
    await asyncio.gather(*tasks)
    out.send({"case_offsets": offsets, "positions": positions, "elapsed_s": time.time() - start, "late_s": late})


# ---- the clients ------------------------------------------------------------------------------


class Tally:
    """What the clients of one process received."""

    def __init__(self) -> None:
        self.items = 0
        self.latencies_ms = array("d")
        self.stale = [0] * (STALE_BINS + 1)
        self.offsets: list[array] = []
        self.closed: list[int | None] = []
        self.cpu_s = 0.0

    def result(self) -> dict[str, Any]:
        """A picklable summary for the parent."""
        return {
            "items": self.items, "latencies_ms": self.latencies_ms, "stale": self.stale,
            "offsets": self.offsets, "closed": self.closed, "cpu_s": self.cpu_s,
        }


def run_clients(url: str, origin: str, count: int, first: int, hub: bool, conn: Connection) -> None:
    """Client process: `count` WebSockets; says "ready", records until told "stop", sends its Tally."""
    asyncio.run(_clients(url, origin, count, first, hub, conn))


async def _clients(url: str, origin: str, count: int, first: int, hub: bool, conn: Connection) -> None:
    from websockets.asyncio.client import connect

    tally = Tally()
    sockets = []
    for _ in range(count):
        ws = await connect(url, origin=origin, max_size=None, ping_interval=None, compression=None, open_timeout=30)
        if hub:
            await _subscribe(ws)
        sockets.append(ws)
    tasks = []
    for index, ws in zip(range(first, first + count), sockets, strict=True):
        offsets = array("q")
        tally.offsets.append(offsets)
        tasks.append(asyncio.create_task(_receive(ws, tally, offsets, index % SAMPLE_EVERY == 0)))
    conn.send("ready")
    cpu0 = time.process_time()
    await asyncio.get_running_loop().run_in_executor(None, conn.recv)
    tally.cpu_s = time.process_time() - cpu0
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    tally.closed = [ws.close_code for ws in sockets]
    for ws in sockets:
        ws.transport.abort()
    conn.send(tally.result())


async def _subscribe(ws: Any) -> None:
    await ws.send('{"op":"subscribe","topic":"cases"}')
    await ws.send('{"op":"subscribe","topic":"positions"}')
    pending = {"cases", "positions"}
    while pending:
        message = json.loads(await asyncio.wait_for(ws.recv(), 30))
        if message["op"] == "subscribed":
            pending.discard(message["topic"])
        elif message["op"] == "ping":
            await ws.send(json.dumps({"op": "pong", "n": message["n"]}))
        elif message["op"] == "error":
            raise RuntimeError(f"hub refused: {message}")


async def _receive(ws: Any, tally: Tally, offsets: array, sample: bool) -> None:
    """Read frames cheaply: parse case events only; count and (sampled) date position items."""
    import websockets

    stale = tally.stale
    try:
        while True:
            raw = await ws.recv(decode=False)
            now = time.time()
            head = raw[:40]
            if head.startswith(b'{"op":"batch"'):
                if sample:
                    rows = json.loads(raw)["items"]
                    tally.items += len(rows)
                    for row in rows:
                        stale[min(STALE_BINS, max(0, int((now - row[3]) * 1000)))] += 1
                elif not raw.endswith(b'"items":[]}'):
                    tally.items += raw.count(b"],[") + 1  # items are flat arrays of numbers
            elif b'"topic":"positions"' in head:  # the baseline: one event per position
                tally.items += 1
                if sample:
                    at = float(AT_RE.search(raw).group(1))
                    stale[min(STALE_BINS, max(0, int((now - at) * 1000)))] += 1
            elif head.startswith(b'{"op":"event"'):
                event = json.loads(raw)
                offsets.append(event["offset"])
                tally.latencies_ms.append((now - event["data"]["pub"]) * 1000)
            elif head.startswith(b'{"op":"ping"'):
                await ws.send(b'{"op":"pong","n":%s}' % raw[raw.index(b'"n":') + 4 : -1], text=True)
    except websockets.ConnectionClosed:
        return


# ---- the servers ------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Measured:
    """A server subprocess whose CPU time and peak RSS are read from /proc."""

    def __init__(self, argv: list[str], env: dict[str, str], port: int, log: Path) -> None:
        self.port = port
        with open(log, "ab") as out:
            self.proc = subprocess.Popen(argv, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
        self.log = log
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{argv[0]} exited: {log.read_text()[-2000:]}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{argv[0]} did not listen on {port}")

    def cpu_s(self) -> float:
        """User + system CPU seconds of the process so far (all its threads)."""
        stat = Path(f"/proc/{self.proc.pid}/stat").read_text()
        fields = stat[stat.rindex(")") + 2 :].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def peak_rss_mb(self) -> float:
        """The peak resident set size (VmHWM) in MiB."""
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def stop(self) -> None:
        """Terminate, then kill."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


def _server_env(redis_url: str, data_dir: Path) -> dict[str, str]:
    env = dict(os.environ, REDIS_URL=redis_url, WALL_DATA_DIR=str(data_dir), DJANGO_SETTINGS_MODULE="wall.settings")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    env.pop("DATABASE_URL", None)
    return env


def _flush(redis_url: str) -> None:
    import redis

    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    client.close()


# ---- one phase --------------------------------------------------------------------------------


def _phase(server: Measured, url: str, hub: bool, load: Load, redis_url: str, data_dir: Path) -> dict[str, Any]:
    """Connect the clients, publish the load, drain; what the clients got and the server spent."""
    ctx = multiprocessing.get_context("spawn")
    origin = f"http://127.0.0.1:{server.port}"
    procs_n = load.client_processes
    shares = [load.clients // procs_n + (i < load.clients % procs_n) for i in range(procs_n)]
    pipes, procs, first = [], [], 0
    for share in shares:
        mine, theirs = ctx.Pipe()
        proc = ctx.Process(target=run_clients, args=(url, origin, share, first, hub, theirs), daemon=True)
        proc.start()
        pipes.append(mine)
        procs.append(proc)
        first += share
    try:
        for pipe in pipes:
            if not pipe.poll(120) or pipe.recv() != "ready":
                raise RuntimeError("clients did not connect")
        rss_before = server.peak_rss_mb()
        mine, theirs = ctx.Pipe()
        target = publish_hub if hub else publish_baseline
        publisher = ctx.Process(target=target, args=(plan(load), redis_url, str(data_dir), theirs), daemon=True)
        cpu0, t0 = server.cpu_s(), time.time()
        publisher.start()
        procs.append(publisher)
        if not mine.poll(load.duration_s + 120):
            raise RuntimeError("the publisher did not finish")
        published = mine.recv()
        time.sleep(DRAIN_S)
        cpu1, t1 = server.cpu_s(), time.time()
        tallies = []
        for pipe in pipes:
            pipe.send("stop")
            tallies.append(pipe.recv() if pipe.poll(60) else None)
        if any(t is None for t in tallies):
            raise RuntimeError("a client process did not report")
        return _figures(published, tallies, cpu1 - cpu0, t1 - t0, load) | {
            "peak_rss_mb": round(server.peak_rss_mb(), 1), "rss_before_load_mb": round(rss_before, 1),
            "host_load_1m": round(os.getloadavg()[0], 2),  # other processes on the machine compete too
        }
    finally:
        for proc in procs:
            proc.join(5)
            if proc.is_alive():
                proc.kill()
                proc.join(5)


def _figures(published: dict, tallies: list[dict], cpu_s: float, window_s: float, load: Load) -> dict[str, Any]:
    latencies = sorted(x for t in tallies for x in t["latencies_ms"])
    stale = [sum(bins) for bins in zip(*(t["stale"] for t in tallies), strict=True)]
    wanted = set(published["case_offsets"])
    lost = duplicates = 0
    for tally in tallies:
        for offsets in tally["offsets"]:
            got = set(offsets)
            lost += len(wanted - got)
            duplicates += len(offsets) - len(got)
    cases = len(latencies)
    items = sum(t["items"] for t in tallies)
    deliveries = cases + items
    duration = published["elapsed_s"]
    closed = [code for t in tallies for code in t["closed"] if code is not None]
    return {
        "case_p50_ms": _quantile(latencies, 0.50), "case_p99_ms": _quantile(latencies, 0.99),
        "case_max_ms": round(latencies[-1], 1) if latencies else None,
        "position_staleness_p50_ms": _bin_quantile(stale, 0.50),
        "position_staleness_p99_ms": _bin_quantile(stale, 0.99),
        "lost_case_events": lost, "duplicate_case_events": duplicates,
        "case_events_per_s": round(cases / duration, 1), "position_items_per_s": round(items / duration, 1),
        "published_cases_per_s": round(len(wanted) / duration, 1),
        "published_positions_per_s": round(published["positions"] / duration, 1),
        "publisher_max_late_ms": round(published["late_s"] * 1000, 1),
        "deliveries": deliveries, "server_cpu_s": round(cpu_s, 2), "window_s": round(window_s, 1),
        "server_cpu_pct": round(100 * cpu_s / window_s, 1),
        "deliveries_per_cpu_s": round(deliveries / cpu_s) if cpu_s else None,
        "cpu_s_per_1000_deliveries": round(1000 * cpu_s / deliveries, 4) if deliveries else None,
        "clients_closed": len(closed),
        "client_cpu_pct": [round(100 * t["cpu_s"] / window_s, 1) for t in tallies],
    }


def _quantile(ordered: list[float], q: float) -> float | None:
    if not ordered:
        return None
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)


def _bin_quantile(bins: list[int], q: float) -> float | None:
    total = sum(bins)
    if not total:
        return None
    running, cumulative = 0, []
    for count in bins:
        running += count
        cumulative.append(running)
    return float(bisect.bisect_left(cumulative, q * total))


# ---- main -------------------------------------------------------------------------------------


def _prepare(data_dir: Path) -> str:
    env = _server_env("", data_dir)
    out = subprocess.run([sys.executable, "-c", _SETUP], env=env, cwd=ROOT, capture_output=True, text=True)
    if out.returncode:
        raise RuntimeError(f"preparing the data dir failed: {out.stderr[-2000:]}")
    return out.stdout.strip().splitlines()[-1]


def _run_hub(load: Load, redis_url: str, data_dir: Path, token: str) -> dict[str, Any]:
    _flush(redis_url)
    port = _free_port()
    argv = [str(BIN / "wall"), "serve", "--host", "127.0.0.1", "--port", str(port)]
    server = Measured(argv, _server_env(redis_url, data_dir), port, data_dir / "serve.log")
    try:
        return _phase(server, f"ws://127.0.0.1:{port}/ws/hub?token={token}", True, load, redis_url, data_dir)
    finally:
        server.stop()


def _run_baseline(load: Load, redis_url: str, data_dir: Path) -> dict[str, Any]:
    _flush(redis_url)
    port = _free_port()
    argv = [str(BIN / "daphne"), "-b", "127.0.0.1", "-p", str(port), "-v", "0", "bench.hub_baseline:application"]
    server = Measured(argv, _server_env(redis_url, data_dir), port, data_dir / "baseline.log")
    try:
        return _phase(server, f"ws://127.0.0.1:{port}/ws/baseline", False, load, redis_url, data_dir)
    finally:
        server.stop()


def main(argv: list[str], as_json: bool = False) -> int:
    """Run both phases; the last line printed is one JSON object of figures."""
    parser = argparse.ArgumentParser(prog="wall bench hub", description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--client-processes", type=int, default=2)
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of load per phase")
    parser.add_argument("--positions-per-s", type=float, default=5000.0)
    parser.add_argument("--cases-per-s", type=float, default=50.0)
    parser.add_argument("--workers", type=int, default=5000, help="distinct workers moving (each at rate/workers Hz)")
    parser.add_argument("--position-batch", type=int, default=250, help="positions per publish_many")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/13", help="a database of its own: flushed")
    parser.add_argument("--skip-baseline", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the data dir with the server logs")
    parser.add_argument("--json", action="store_true", help="print only the JSON line")
    args = parser.parse_args(argv)
    as_json = as_json or args.json
    load = Load(
        args.clients, args.client_processes, args.duration, args.positions_per_s, args.cases_per_s, args.workers,
        args.position_batch,
    )
    data_dir = Path(tempfile.mkdtemp(prefix="bench-hub-"))
    try:
        token = _prepare(data_dir)
        _log(f"hub: {load.clients} clients, {load.positions_per_s:g} positions/s, {load.cases_per_s:g} cases/s, "
             f"{load.duration_s:g} s")
        hub = _run_hub(load, args.redis_url, data_dir, token)
        baseline = None
        if not args.skip_baseline:
            _log("baseline: Channels group_send per event, same load")
            baseline = _run_baseline(load, args.redis_url, data_dir)
        _flush(args.redis_url)
    finally:
        if args.keep:
            _log(f"server logs kept in {data_dir}")
        else:
            shutil.rmtree(data_dir, ignore_errors=True)
    figures = {key: value for key, value in asdict(load).items()} | hub
    if baseline is not None:
        figures |= {f"baseline_{key}": value for key, value in baseline.items()}
        ours, theirs = hub["deliveries_per_cpu_s"], baseline["deliveries_per_cpu_s"]
        figures["baseline_ratio"] = round(ours / theirs, 1) if ours and theirs else None
    else:
        figures["baseline_ratio"] = None
    figures["targets_met"] = {
        "case_p99_le_100ms": (hub["case_p99_ms"] or 1e9) <= 100,
        "staleness_p99_le_1s": (hub["position_staleness_p99_ms"] or 1e9) <= 1000,
        "lost_zero": hub["lost_case_events"] == 0,
        "ratio_ge_5": (figures["baseline_ratio"] or 0) >= 5,
    }
    if not as_json:
        for key, value in figures.items():
            print(f"{key:>40}  {value}")
    print(json.dumps(figures))
    return 0
