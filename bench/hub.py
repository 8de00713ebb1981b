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
The Redis database (default 13) is flushed before each phase. With `--trails`, a further process writes
the same rate of position fixes into the trail table of PostgreSQL during the hub phase (bench/trails.py, the
pipeline's own trail writer), as the ingest pipeline does in production. With `--ingest R`, a process POSTs
R position fixes a second to the server under test's /api/positions (its own pipeline: validation, live
state, geofences, trails) while it fans out. The last line printed is JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import gc
import json
import logging
import multiprocessing
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from array import array
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from bench import emit
from bench.procs import HostCpu, cpu_seconds, free_port, memory_mb, stop_process, wait_port
from bench.trails import PRIVATE_DB as TRAILS_DB
from bench.trails import run_trail_load

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
CENTRE = (22.70, 114.30)
AT_RE = re.compile(r'"at":([0-9.]+)')
STALE_BINS = 60_000  # 1 ms bins
DRAIN_S = 2.0
SAMPLE_EVERY = 10
INCIDENT_TOPIC = "incident.1"
EVENT_HEAD = '{"op":"event","topic":"'
BASELINE_IN_FLIGHT = 64

_SETUP = """
import django
django.setup()
from django.core.management import call_command
call_command("migrate", interactive=False, verbosity=0)
import json
from dispatchd.models import Worker
from wall.auth import create_token
Worker.objects.bulk_create(Worker(code=f"BENCH{i:04d}", name=f"bench {i}", state="on_duty") for i in range(500))
print(json.dumps({"wall": create_token("wall", "bench-hub"), "commander": create_token("commander", "bench-ingest")}))
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
    incident_events_per_s: float = 0.0  # > 0: an incident is active, every client also follows its topic
    trails_url: str = ""  # a database: trails are written into it at positions_per_s during the hub phase
    ingest_per_s: float = 0.0  # fixes a second POSTed to the server under test's /api/positions meanwhile


# ---- the load ---------------------------------------------------------------------------------


def plan(load: Load) -> list[tuple[float, str, Any]]:
    """When to publish what: (seconds from start, "case", number) and (…, "positions", worker ids)."""
    steps: list[tuple[float, str, Any]] = []
    for n in range(1, int(load.duration_s * load.cases_per_s) + 1):
        steps.append(((n - 1) / load.cases_per_s, "case", n))
    if load.incident_events_per_s > 0:
        for n in range(1, int(load.duration_s * load.incident_events_per_s) + 1):
            steps.append(((n - 0.5) / load.incident_events_per_s, "incident", n))
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


def incident_event(n: int) -> dict[str, Any]:
    """A war-room timeline entry about the size of a real one; `pub` is when it was published."""
    data = {
        "id": n, "incident_id": 1, "kind": "ack" if n % 3 else "note", "actor": "commander:zhang",
        "text": "网格员已确认指令 order acknowledged", "at": "2024-05-01T10:00:00+08:00",
        "data": {"worker_id": n % 5000, "order_id": n}, "pub": time.time(),
    }
    return {"type": "incident.action", "data": data}


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


def _published(offsets: list[int], incident_offsets: list[int], positions: int, start: float, late: float,
               cpu0: float) -> dict[str, Any]:
    """A publisher's report: what it published, over how long, how late it ran at worst and the CPU it used."""
    return {"case_offsets": offsets, "incident_offsets": incident_offsets, "positions": positions,
            "elapsed_s": time.time() - start, "late_s": late, "cpu_s": time.process_time() - cpu0}


def publish_hub(steps: list, redis_url: str, data_dir: str, out: Connection) -> None:
    """Publisher process of the hub phase: realtime.publish / publish_many on the plan's schedule."""
    _django(redis_url, data_dir)
    from realtime import publish, publish_many

    offsets, incident_offsets, positions, late = [], [], 0, 0.0
    cpu0 = time.process_time()
    start = time.time() + 0.1
    for kind, arg, lateness in _paced(steps, start):
        late = max(late, lateness)
        if kind == "case":
            offsets.append(publish("cases", case_event(arg)))
        elif kind == "incident":
            incident_offsets.append(publish(INCIDENT_TOPIC, incident_event(arg)))
        else:
            now = time.time()
            publish_many("positions", [{"type": "position", "data": position_item(w, now)} for w in arg])
            positions += len(arg)
    out.send(_published(offsets, incident_offsets, positions, start, late, cpu0))


def ingest_positions(base: str, token: str, rate: float, seconds: float, out: Connection) -> None:
    """Ingest process: POST /api/positions to the server under test (its own pipeline: trails, live state, …)."""
    import httpx

    client = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30)
    ids = [w["id"] for w in client.get("/api/workers").json() if w["code"].startswith("BENCH")]
    batch, sent, accepted, took = 50, 0, 0, []
    start = time.time()
    while (elapsed := time.time() - start) < seconds:
        now = datetime.now(UTC).isoformat()
        items = [{"worker_id": ids[(sent + i) % len(ids)], "lat": CENTRE[0] + ((sent + i) % 97) / 1000,
                  "lon": CENTRE[1] + (sent // len(ids) % 50) / 5000, "at": now, "accuracy_m": 5.0}
                 for i in range(batch)]
        began = time.perf_counter()
        accepted += batch if client.post("/api/positions", json={"items": items}).status_code == 200 else 0
        took.append((time.perf_counter() - began) * 1000)
        sent += batch
        time.sleep(max(0.0, start + sent / rate - time.time()))
    client.close()
    took.sort()
    out.send({"fixes_per_s": round(accepted / elapsed, 1), "refused": sent - accepted,
              "request_p99_ms": round(took[int(0.99 * (len(took) - 1))], 1) if took else None})


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

    offsets, incident_offsets, positions, late = [], [], 0, 0.0
    cpu0 = time.process_time()
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
        elif kind == "incident":
            incident_offsets.append(arg)
            await fan(INCIDENT_TOPIC, arg, incident_event(arg))
        else:
            now = time.time()
            for worker in arg:
                positions += 1
                await fan("positions", positions, {"type": "position", "data": position_item(worker, now)})
    await asyncio.gather(*tasks)
    out.send(_published(offsets, incident_offsets, positions, start, late, cpu0))


# ---- the clients ------------------------------------------------------------------------------


class Tally:
    """What the clients of one process received."""

    def __init__(self) -> None:
        self.items = 0
        self.latencies_ms = array("d")
        self.incident_latencies_ms = array("d")
        self.stale = [0] * (STALE_BINS + 1)
        self.offsets: list[array] = []
        self.incident_offsets: list[array] = []
        self.closed: list[int | None] = []
        self.cpu_s = 0.0

    def result(self) -> dict[str, Any]:
        """A picklable summary for the parent."""
        return {
            "items": self.items, "latencies_ms": self.latencies_ms, "stale": self.stale,
            "offsets": self.offsets, "closed": self.closed, "cpu_s": self.cpu_s,
            "incident_latencies_ms": self.incident_latencies_ms, "incident_offsets": self.incident_offsets,
        }


def run_clients(url: str, origin: str, count: int, first: int, topics: tuple[str, ...] | None,
                conn: Connection) -> None:
    """Client process: `count` WebSockets; says "ready", records until told "stop", sends its Tally.

    `topics`: what each client subscribes to on the hub; None for the baseline (its server sends everything).
    """
    asyncio.run(_clients(url, origin, count, first, topics, conn))


async def _clients(url: str, origin: str, count: int, first: int, topics: tuple[str, ...] | None,
                   conn: Connection) -> None:
    # aiohttp's WebSocket reader parses frames in C: with 50 connections per process, the per-frame Python
    # of the websockets library was a third of a client process's busy CPU, CPU that the server under test
    # shares on this machine.
    import aiohttp

    tally = Tally()
    sockets = []
    session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None, connect=30))
    for _ in range(count):
        ws = await session.ws_connect(url, origin=origin, max_msg_size=0, autoping=False, compress=0)
        if topics:
            await _subscribe(ws, topics)
        sockets.append(ws)
    tasks = []
    for index, ws in zip(range(first, first + count), sockets, strict=True):
        offsets = {"cases": array("q"), INCIDENT_TOPIC: array("q")}
        tally.offsets.append(offsets["cases"])
        tally.incident_offsets.append(offsets[INCIDENT_TOPIC])
        tasks.append(asyncio.create_task(_receive(ws, tally, offsets, index % SAMPLE_EVERY == 0)))
    gc.collect()
    gc.freeze()  # the measuring clients must not add their own full-collection pauses to the latencies
    conn.send("ready")
    cpu0 = time.process_time()
    await asyncio.get_running_loop().run_in_executor(None, conn.recv)
    tally.cpu_s = time.process_time() - cpu0
    tally.closed = [ws.close_code for ws in sockets]  # before the cancelling, which aiohttp records as 1006
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await session.close()  # drops the connections without a closing handshake each
    conn.send(tally.result())


async def _subscribe(ws: Any, topics: tuple[str, ...]) -> None:
    for topic in topics:
        await ws.send_str(json.dumps({"op": "subscribe", "topic": topic}))
    pending = set(topics)
    while pending:
        message = json.loads(await ws.receive_str(timeout=30))
        if message["op"] == "subscribed":
            pending.discard(message["topic"])
        elif message["op"] == "ping":
            await ws.send_str(json.dumps({"op": "pong", "n": message["n"]}))
        elif message["op"] == "error":
            raise RuntimeError(f"hub refused: {message}")


async def _receive(ws: Any, tally: Tally, offsets: dict[str, array], sample: bool) -> None:
    """Read frames cheaply: parse case events only; count and (sampled) date position items."""
    from aiohttp import WSMsgType

    from realtime.envelope import loads  # orjson: the standard parser was 29 % of a client process

    stale = tally.stale
    text = WSMsgType.TEXT
    while True:
        message = await ws.receive()
        now = time.time()
        if message.type is not text:
            if message.type is WSMsgType.BINARY:
                continue
            return  # closed, closing or failed
        raw = message.data
        head = raw[:40]
        if head.startswith('{"op":"batch"'):
            if sample:
                batch = loads(raw)
                rows = batch["items"]
                tally.items += len(rows)
                if not batch.get("snapshot"):  # a snapshot holds last known places, old by design
                    for row in rows:
                        stale[min(STALE_BINS, max(0, int((now - row[3]) * 1000)))] += 1
            elif not raw.endswith('"items":[]}'):
                tally.items += raw.count("],[") + 1  # items are flat arrays of numbers
        elif '"topic":"positions"' in head:  # the baseline: one event per position
            tally.items += 1
            if sample:
                at = float(AT_RE.search(raw).group(1))
                stale[min(STALE_BINS, max(0, int((now - at) * 1000)))] += 1
        elif head.startswith(EVENT_HEAD):
            # Sliced, not parsed: an event frame is {"op":"event","topic":T,"epoch":E,"offset":N,…,"data":{…}},
            # and the bench's events end their data with "pub" (realtime/envelope.py, case_event).
            topic = raw[len(EVENT_HEAD) : raw.index('"', len(EVENT_HEAD))]
            at = raw.index('"offset":') + 9
            offsets[topic].append(int(raw[at : raw.index(",", at)]))
            pub = raw.rfind('"pub":', -40)  # the soak bench's real cases share the topic, without `pub`
            if pub > 0:
                latencies = tally.latencies_ms if topic == "cases" else tally.incident_latencies_ms
                latencies.append((now - float(raw[pub + 6 : -2])) * 1000)
        elif head.startswith('{"op":"ping"'):
            await ws.send_str('{"op":"pong","n":' + raw[raw.index('"n":') + 4 : -1] + "}")


# ---- the servers ------------------------------------------------------------------------------


class Measured:
    """A server subprocess whose CPU time and peak RSS are read from /proc."""

    def __init__(self, argv: list[str], env: dict[str, str], port: int, log: Path) -> None:
        self.port = port
        with open(log, "ab") as out:
            self.proc = subprocess.Popen(argv, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
        self.log = log
        try:
            wait_port(port, self.proc, 60)
        except RuntimeError as exc:
            self.stop()
            raise RuntimeError(f"{argv[0]}: {exc}: {log.read_text()[-2000:]}") from exc

    def cpu_s(self) -> float:
        """User + system CPU seconds of the process so far (all its threads)."""
        return cpu_seconds(self.proc.pid)

    def peak_rss_mb(self) -> float:
        """The peak resident set size (VmHWM) in MiB."""
        return memory_mb(self.proc.pid, "VmHWM")

    def stop(self) -> None:
        """Terminate, then kill."""
        stop_process(self.proc)


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


def _phase(server: Measured, url: str, hub: bool, load: Load, redis_url: str, data_dir: Path,
           ingest_token: str = "") -> dict[str, Any]:
    """Connect the clients, publish the load, drain; what the clients got and the server spent."""
    ctx = multiprocessing.get_context("spawn")
    origin = f"http://127.0.0.1:{server.port}"
    procs_n = load.client_processes
    shares = [load.clients // procs_n + (i < load.clients % procs_n) for i in range(procs_n)]
    pipes, procs, first = [], [], 0
    for share in shares:
        mine, theirs = ctx.Pipe()
        topics = None
        if hub:
            topics = ("cases", "positions") + ((INCIDENT_TOPIC,) if load.incident_events_per_s > 0 else ())
        proc = ctx.Process(target=run_clients, args=(url, origin, share, first, topics, theirs), daemon=True)
        proc.start()
        pipes.append(mine)
        procs.append(proc)
        first += share
    try:
        for pipe in pipes:
            if not pipe.poll(120) or pipe.recv() != "ready":
                raise RuntimeError("clients did not connect")
        rss_before = server.peak_rss_mb()
        trails = None
        if hub and load.trails_url:
            trails, trails_theirs = ctx.Pipe()
            procs.append(ctx.Process(target=run_trail_load, daemon=True, args=(
                load.trails_url, load.positions_per_s, load.duration_s + DRAIN_S, trails_theirs)))
            procs[-1].start()
        ingest = None
        if hub and load.ingest_per_s > 0:
            ingest, ingest_theirs = ctx.Pipe()
            procs.append(ctx.Process(target=ingest_positions, daemon=True, args=(
                origin, ingest_token, load.ingest_per_s, load.duration_s, ingest_theirs)))
            procs[-1].start()
        mine, theirs = ctx.Pipe()
        target = publish_hub if hub else publish_baseline
        publisher = ctx.Process(target=target, args=(plan(load), redis_url, str(data_dir), theirs), daemon=True)
        cpu0, t0, host = server.cpu_s(), time.time(), HostCpu()
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
        written = {}
        if trails is not None:
            if not trails.poll(120):
                raise RuntimeError("the trail writer did not report")
            report = trails.recv()
            written = {"trails_written_per_s": report["written_per_s"], "trails_kept_up": report["kept_up"],
                       "trails_write_lag_p99_ms": report["write_lag_p99_ms"]}
        if ingest is not None:
            if not ingest.poll(120):
                raise RuntimeError("the ingest process did not report")
            written |= {f"ingest_{key}": value for key, value in ingest.recv().items()}
        return _figures(published, tallies, cpu1 - cpu0, t1 - t0, load) | written | {
            "peak_rss_mb": round(server.peak_rss_mb(), 1), "rss_before_load_mb": round(rss_before, 1),
            "host_load_1m": round(os.getloadavg()[0], 2),  # other processes on the machine compete too
        } | host.shares()
    finally:
        for proc in procs:
            proc.join(5)
            if proc.is_alive():
                proc.kill()
                proc.join(5)


def _figures(published: dict, tallies: list[dict], cpu_s: float, window_s: float, load: Load) -> dict[str, Any]:
    latencies = sorted(x for t in tallies for x in t["latencies_ms"])
    incident_latencies = sorted(x for t in tallies for x in t["incident_latencies_ms"])
    stale = [sum(bins) for bins in zip(*(t["stale"] for t in tallies), strict=True)]
    lost, duplicates = _missing(published["case_offsets"], [o for t in tallies for o in t["offsets"]])
    incident_lost, incident_duplicates = _missing(
        published["incident_offsets"], [o for t in tallies for o in t["incident_offsets"]]
    )
    cases = len(latencies)
    items = sum(t["items"] for t in tallies)
    deliveries = cases + len(incident_latencies) + items
    duration = published["elapsed_s"]
    closed = [code for t in tallies for code in t["closed"] if code is not None]
    return {
        "case_p50_ms": _quantile(latencies, 0.50), "case_p99_ms": _quantile(latencies, 0.99),
        "case_max_ms": round(latencies[-1], 1) if latencies else None,
        "position_staleness_p50_ms": _bin_quantile(stale, 0.50),
        "position_staleness_p99_ms": _bin_quantile(stale, 0.99),
        "lost_case_events": lost, "duplicate_case_events": duplicates,
        "case_events_per_s": round(cases / duration, 1), "position_items_per_s": round(items / duration, 1),
        "published_cases_per_s": round(len(published["case_offsets"]) / duration, 1),
        "published_positions_per_s": round(published["positions"] / duration, 1),
        "publisher_max_late_ms": round(published["late_s"] * 1000, 1),
        "deliveries": deliveries, "server_cpu_s": round(cpu_s, 2), "window_s": round(window_s, 1),
        "server_cpu_pct": round(100 * cpu_s / window_s, 1),
        "deliveries_per_cpu_s": round(deliveries / cpu_s) if cpu_s else None,
        "cpu_s_per_1000_deliveries": round(1000 * cpu_s / deliveries, 4) if deliveries else None,
        "clients_closed": len(closed),
        "client_cpu_pct": [round(100 * t["cpu_s"] / window_s, 1) for t in tallies],
        "publisher_cpu_pct": round(100 * published["cpu_s"] / duration, 1),
    } | ({
        "incident_events_delivered_per_s": round(len(incident_latencies) / duration, 1),
        "incident_p50_ms": _quantile(incident_latencies, 0.50), "incident_p99_ms": _quantile(incident_latencies, 0.99),
        "lost_incident_events": incident_lost, "duplicate_incident_events": incident_duplicates,
    } if published["incident_offsets"] else {})


def _missing(published: list[int], received: list[array]) -> tuple[int, int]:
    """(offsets some client never got, offsets a client got more than once), summed over the clients."""
    wanted = set(published)
    lost = duplicates = 0
    for offsets in received:
        got = set(offsets)
        lost += len(wanted - got)
        duplicates += len(offsets) - len(got)
    return lost, duplicates


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


def _prepare(data_dir: Path) -> dict[str, str]:
    env = _server_env("", data_dir)
    out = subprocess.run([sys.executable, "-c", _SETUP], env=env, cwd=ROOT, capture_output=True, text=True)
    if out.returncode:
        raise RuntimeError(f"preparing the data dir failed: {out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _run_hub(load: Load, redis_url: str, data_dir: Path, tokens: dict[str, str]) -> dict[str, Any]:
    _flush(redis_url)
    port = free_port()
    argv = [str(BIN / "wall"), "serve", "--host", "127.0.0.1", "--port", str(port)]
    server = Measured(argv, _server_env(redis_url, data_dir), port, data_dir / "serve.log")
    url = f"ws://127.0.0.1:{port}/ws/hub?token={tokens['wall']}"
    try:
        return _phase(server, url, True, load, redis_url, data_dir, ingest_token=tokens["commander"])
    finally:
        server.stop()


def _run_baseline(load: Load, redis_url: str, data_dir: Path) -> dict[str, Any]:
    _flush(redis_url)
    port = free_port()
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
    parser.add_argument("--ingest", type=float, default=0.0, metavar="FIXES_PER_S",
                        help="also POST this many position fixes a second to the server's /api/positions (its "
                             "own ingest pipeline: validation, live state, trails) during the hub phase")
    parser.add_argument("--incident", type=float, default=0.0, metavar="EVENTS_PER_S",
                        help="an incident is active: every client also follows incident.1, which gets this many "
                             "timeline events a second (counted like case events)")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/13", help="a database of its own: flushed")
    parser.add_argument("--trails", nargs="?", const=TRAILS_DB,
                        default="", metavar="DATABASE_URL",
                        help="write the positions' trails into this database meanwhile (default: a private one)")
    parser.add_argument("--skip-baseline", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the data dir with the server logs")
    parser.add_argument("--json", action="store_true", help="print only the JSON line")
    args = parser.parse_args(argv)
    as_json = as_json or args.json
    load = Load(
        args.clients, args.client_processes, args.duration, args.positions_per_s, args.cases_per_s, args.workers,
        args.position_batch, args.incident, args.trails, args.ingest,
    )
    data_dir = Path(tempfile.mkdtemp(prefix="bench-hub-"))
    try:
        tokens = _prepare(data_dir)
        _log(f"hub: {load.clients} clients, {load.positions_per_s:g} positions/s, {load.cases_per_s:g} cases/s, "
             f"{load.duration_s:g} s")
        hub = _run_hub(load, args.redis_url, data_dir, tokens)
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
        "lost_zero": hub["lost_case_events"] == 0 and not hub.get("lost_incident_events"),
        "ratio_ge_5": (figures["baseline_ratio"] or 0) >= 5,
    } | ({"incident_p99_le_100ms": (hub["incident_p99_ms"] or 1e9) <= 100} if "incident_p99_ms" in hub else {})
    emit(figures, as_json)
    return 0
