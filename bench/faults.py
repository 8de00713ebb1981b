"""Traffic and checks of the fault suite: real cases and positions in, resuming hub clients out.

`Traffic` drives a `Cluster` (bench/cluster.py) the way production does: cases through `POST /api/cases`
on both web processes, positions through `POST /api/positions` (plus clock-skewed batches), and
`realtime.client.HubClient` subscribers on both web processes (one behind a throttling proxy) recording
every case event. `check()` compares what the API accepted, the database, the `cases` stream and what
every client received; `run_fault()` injects one fault under that load and returns its table row.

What "accepted" means:
- a case is accepted when `POST /api/cases` answered 201 (a request cut by the fault is not accepted,
  though it may have committed: such a case must then also be there exactly once);
- an event is accepted when it is in the `cases` stream (offsets 1..head of the current epoch); events
  of an epoch Redis lost are accepted only as far as some client received them;
- a client has a case when it received its `case.created` event or a snapshot (`GET /api/cases`) it
  loaded after a `recovered:false` (new epoch, or its first subscription) lists it.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from bench.browser import LIVE, on_wall
from bench.cluster import Cluster
from bench.procs import free_port
from realtime.client import HubClient

CASE_RATE_S = 4.0  # cases per second through the API (both web processes)
POSITION_PERIOD_S = 0.5  # one batch of every worker's fix this often
SKEW = timedelta(minutes=10)
FAULTS = ("redis_restart", "postgres_restart", "kill9_web", "kill9_dispatchd", "kill9_sip", "reconnect_storm",
          "slow_network", "clock_skew")


class ThrottleProxy:
    """A TCP proxy that passes at most `rate` bytes/s from the server to the client (a slow network)."""

    def __init__(self, upstream_port: int, rate: int) -> None:
        self.upstream_port = upstream_port
        self.rate = rate
        self.port = free_port()
        self._server: asyncio.Server | None = None

    async def start(self) -> ThrottleProxy:
        """Listen on 127.0.0.1:port."""
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        return self

    async def close(self) -> None:
        """Stop listening."""
        if self._server is not None:
            self._server.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        except OSError:
            writer.close()
            return
        await asyncio.gather(self._pipe(reader, up_writer, False), self._pipe(up_reader, writer, True),
                             return_exceptions=True)

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, throttled: bool) -> None:
        try:
            while data := await reader.read(max(1, self.rate // 10) if throttled else 65536):
                writer.write(data)
                await writer.drain()
                if throttled:
                    await asyncio.sleep(len(data) / self.rate)  # read each time: a fault may slow it further
        finally:
            writer.close()


@dataclass
class Observer:
    """One resuming hub client and everything it received."""

    name: str
    base: str
    client: HubClient
    offsets: dict[str, list[int]] = field(default_factory=dict)
    starts: dict[str, list[int]] = field(default_factory=dict)
    received: list[tuple[float, float]] = field(default_factory=list)  # (receive time, event ts)
    created: set[int] = field(default_factory=set)
    snapshot_ids: set[int] = field(default_factory=set)
    warnings: Counter = field(default_factory=Counter)
    resets: int = 0

    def delivered(self) -> int:
        """Distinct case events received."""
        return sum(len(set(v)) for v in self.offsets.values())

    def duplicates(self) -> int:
        """Case events received more than once."""
        return sum(len(v) - len(set(v)) for v in self.offsets.values())


class Traffic:
    """Load on a cluster and the record of what was accepted and received."""

    def __init__(self, cluster: Cluster, clients_per_web: int = 3, slow_rate: int = 30_000,
                 position_period_s: float = POSITION_PERIOD_S) -> None:
        self.cluster = cluster
        self.seed = cluster.seed
        self.clients_per_web = clients_per_web
        self.slow_rate = slow_rate
        self.observers: list[Observer] = []
        self.accepted: dict[int, float] = {}  # case id → when the API accepted it
        self.refused_cases = 0
        self.refusals: Counter = Counter()  # HTTP status of every refused case or position batch
        self.positions_accepted = 0
        self.skew_answers: Counter = Counter()
        self.proxy: ThrottleProxy | None = None
        self._tasks: list[asyncio.Task] = []
        self._load: list[asyncio.Task] = []
        self._http: httpx.AsyncClient | None = None
        self._serial = itertools.count(1)
        self.case_rate = CASE_RATE_S
        self.position_period_s = position_period_s  # 0: no positions through the API

    # ---- start and stop -------------------------------------------------------------------

    async def start(self) -> Traffic:
        """Connect the observers and start sending cases and positions."""
        self._http = httpx.AsyncClient(timeout=10)
        self.proxy = await ThrottleProxy(self.cluster.web_ports[0], self.slow_rate).start()
        for index, port in enumerate(self.cluster.web_ports):
            for k in range(self.clients_per_web):
                self._observe(f"web{index + 1}-{k}", port, positions=k == 0)
        self._observe("slow", self.proxy.port, positions=True, base_port=self.cluster.web_ports[0])
        for observer in self.observers:
            await observer.client.start()
        await asyncio.gather(*(o.client.connected.wait() for o in self.observers))
        self._load = [asyncio.create_task(self._cases())]
        if self.position_period_s > 0:
            self._load.append(asyncio.create_task(self._positions()))
        return self

    async def stop_load(self) -> None:
        """Stop sending cases and positions; the observers go on receiving."""
        for task in self._load:
            task.cancel()
        await asyncio.gather(*self._load, return_exceptions=True)

    async def stop(self) -> None:
        """Stop the load and the observers."""
        await self.stop_load()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for observer in self.observers:
            await observer.client.close()
        if self.proxy:
            await self.proxy.close()
        if self._http:
            await self._http.aclose()

    def _observe(self, name: str, port: int, positions: bool, base_port: int | None = None) -> None:
        # positions are the load a wall puts on the server; the observers never read them, so leave them compact
        client = HubClient(f"ws://127.0.0.1:{port}/ws/hub", token=self.seed["wall"], backoff_max_s=2.0,
                           decode_positions=False)
        observer = Observer(name, f"http://127.0.0.1:{base_port or port}", client)
        client.subscribe("cases")
        if positions:
            client.subscribe("positions")
        self.observers.append(observer)
        self._tasks.append(asyncio.create_task(self._record(observer)))

    # ---- load -----------------------------------------------------------------------------

    async def _cases(self) -> None:
        bases = [self.cluster.web_base(0), self.cluster.web_base(1)]
        headers = {"Authorization": f"Bearer {self.seed['commander']}"}
        while True:
            n = next(self._serial)
            body = {"title": f"故障演练 {n}", "category": self.seed["category"], "lat": 22.70 + (n % 50) / 1000,
                    "lon": 114.30, "external_id": f"fault-{n}"}
            try:
                answer = await self._http.post(f"{bases[n % 2]}/api/cases", json=body, headers=headers)
                if answer.status_code == 201:
                    self.accepted[answer.json()["id"]] = time.time()
                else:
                    self.refused_cases += 1
                    self.refusals[answer.status_code] += 1
            except httpx.HTTPError:
                self.refused_cases += 1
            await asyncio.sleep(1 / self.case_rate)

    async def post_positions(self, at: datetime, base: str | None = None) -> int:
        """One batch of every worker's fix at `at`; the HTTP status (0 when the server did not answer)."""
        workers = self.seed["workers"]
        items = [{"worker_id": w, "lat": round(22.70 + random.random() / 100, 6), "lon": 114.30, "at": at.isoformat()}
                 for w in workers]
        headers = {"Authorization": f"Bearer {self.seed['commander']}"}
        try:
            answer = await self._http.post(f"{base or self.cluster.web_base(0)}/api/positions",
                                           json={"items": items}, headers=headers)
        except httpx.HTTPError:
            return 0
        if answer.status_code == 200:
            self.positions_accepted += len(items)
        else:
            self.refusals[answer.status_code] += 1
        return answer.status_code

    async def _positions(self) -> None:
        for n in itertools.count():
            await self.post_positions(datetime.now(UTC), self.cluster.web_base(n % 2))
            await asyncio.sleep(self.position_period_s)

    async def skew(self) -> dict[str, Any]:
        """Clock-skewed fixes (10 min ahead, 10 min behind) over HTTP and the hub; the answer to each."""
        now = datetime.now(UTC)
        answers: dict[str, Any] = {"future": await self.post_positions(now + SKEW),
                                   "past": await self.post_positions(now - SKEW)}
        for name, at in (("ws_future", now + SKEW), ("ws_past", now - SKEW), ("ws_now", now)):
            answers[name] = await self._ws_fix(at)
        self.skew_answers.update(f"{k}:{v}" for k, v in answers.items())
        return answers

    async def _ws_fix(self, at: datetime) -> str:
        """One fix sent by a worker over the hub (`position` op); `ack` or the error code it got."""
        import json

        from websockets.asyncio.client import connect

        port = self.cluster.web_ports[1]
        token = self.seed["worker_tokens"][0]
        try:
            async with connect(f"ws://127.0.0.1:{port}/ws/hub?token={token}", origin=f"http://127.0.0.1:{port}",
                               open_timeout=10) as ws:
                await ws.send(json.dumps({"op": "position", "id": 1, "lat": 22.71, "lon": 114.31,
                                          "at": at.timestamp()}))
                while True:
                    message = json.loads(await asyncio.wait_for(ws.recv(), 10))
                    if message["op"] == "ack":
                        return "ack"
                    if message["op"] == "error":
                        return message.get("code", "error")
        except Exception as exc:
            return f"failed:{type(exc).__name__}"

    # ---- observers ------------------------------------------------------------------------

    async def _record(self, observer: Observer) -> None:
        async for message in observer.client:
            op = message.get("op")
            if op == "event" and message["topic"] == "cases":
                observer.offsets.setdefault(message["epoch"], []).append(message["offset"])
                observer.received.append((time.time(), message["ts"]))
                data, kind = message["data"], message["type"]
                if kind == "case.created":
                    observer.created.add(data["id"])
                elif kind == "case.sla_warning":
                    observer.warnings[data["id"]] += 1
            elif op == "subscribed" and message["topic"] == "cases" and not message.get("recovered"):
                observer.starts.setdefault(message["epoch"], []).append(message["offset"])
                observer.resets += 1
                await self._snapshot(observer)

    async def _snapshot(self, observer: Observer) -> None:
        """Reload the cases over HTTP, as a wall page does after `recovered:false`."""
        since = (datetime.now(UTC) - timedelta(minutes=2)).isoformat()
        headers = {"Authorization": f"Bearer {self.seed['wall']}"}
        for _ in range(20):
            with contextlib.suppress(httpx.HTTPError):
                answer = await self._http.get(f"{observer.base}/api/cases", headers=headers,
                                              params={"limit": 1000, "since": since})
                if answer.status_code == 200:
                    observer.snapshot_ids.update(c["id"] for c in answer.json()["items"])
                    return
            await asyncio.sleep(0.5)

    def reconnect_storm(self) -> None:
        """Cut every observer's connection at the same moment."""
        for observer in self.observers:
            observer.client.drop()

    def recovery_s(self, fault_at: float) -> float | None:
        """Seconds from `fault_at` until every observer had received an event published after it."""
        firsts = []
        for observer in self.observers:
            after = [received for received, ts in observer.received if ts >= fault_at]
            if not after:
                return None
            firsts.append(min(after))
        return round(max(firsts) - fault_at, 2)


# ---- checks -------------------------------------------------------------------------------------


def db_rows(cluster: Cluster, sql: str, *params: Any) -> list[tuple]:
    """Rows of a query on the cluster's database (waits out a restarting PostgreSQL)."""
    import psycopg

    dsn = f"host=127.0.0.1 port={cluster.postgres.port} user=postgres dbname=wall"
    for attempt in range(30):
        try:
            with psycopg.connect(dsn) as conn:
                return conn.execute(sql, params).fetchall()
        except psycopg.OperationalError:
            if attempt == 29:
                raise
            time.sleep(0.5)
    return []


def _stream_head(cluster: Cluster) -> tuple[str, int]:
    import redis

    client = redis.Redis.from_url(cluster.redis.url)
    try:
        meta = client.hgetall("hub:{cases}:meta")
    finally:
        client.close()
    return (meta[b"epoch"].decode(), int(meta[b"offset"])) if meta else ("", 0)


async def check(traffic: Traffic, warned_before: float, settle_s: float = 2.0) -> dict[str, Any]:
    """Compare the API's answers, the database, the stream and every observer (cumulative figures).

    The stream head and the accepted cases are read first; observers then have `settle_s` to receive
    them (events in flight are not lost). Cases accepted before `warned_before` must have had their SLA
    warning.
    """
    cluster = traffic.cluster
    epoch, head = _stream_head(cluster)
    delivered_before = time.time()
    accepted = {cid: at for cid, at in traffic.accepted.items() if at < delivered_before}
    await asyncio.sleep(settle_s)
    in_db = Counter(row[0] for row in db_rows(
        cluster, "SELECT external_id FROM dispatchd_case WHERE id = ANY(%s)", list(accepted)))
    missing_in_db = len(accepted) - len(in_db)
    dup_db = sum(n - 1 for n in in_db.values())
    dup_transitions = db_rows(
        cluster, "SELECT case_id, action, count(*) FROM dispatchd_caseevent GROUP BY case_id, action "
        "HAVING count(*) > 1 AND action IN ('report', 'sla_warning', 'sla_overdue', 'sla_escalated')")
    warned = Counter(row[0] for row in db_rows(
        cluster, "SELECT case_id FROM dispatchd_caseevent WHERE action = 'sla_warning' AND case_id = ANY(%s)",
        list(accepted)))
    due = [cid for cid, at in accepted.items() if at < warned_before]
    warnings_missing = sum(1 for cid in due if warned[cid] == 0)
    heads: dict[str, int] = {epoch: head} if epoch else {}
    for observer in traffic.observers:
        for ep, got in observer.offsets.items():
            if ep != epoch:
                heads[ep] = max(heads.get(ep, 0), max(got))
    lost_events = lost_cases = delivered = duplicates = client_dup_warnings = 0
    for observer in traffic.observers:
        delivered += observer.delivered()
        duplicates += observer.duplicates()
        client_dup_warnings += sum(n - 1 for n in observer.warnings.values() if n > 1)
        for ep, got in observer.offsets.items():
            start = min(observer.starts.get(ep, [min(got) - 1]))
            end = head if ep == epoch else max(got)
            lost_events += len(set(range(start + 1, end + 1)) - set(got))
        if epoch in observer.starts and epoch not in observer.offsets:
            lost_events += head - min(observer.starts[epoch])
        has = observer.created | observer.snapshot_ids
        lost_cases += sum(1 for cid, at in accepted.items() if at < delivered_before and cid not in has)
    return {
        "cases_accepted": len(accepted), "cases_refused": traffic.refused_cases, "stream_epoch": epoch,
        "stream_head": head, "events_accepted": sum(heads.values()), "delivered": delivered,
        "lost_events": lost_events, "lost_cases": lost_cases,
        "missing_in_db": missing_in_db, "duplicate_cases_in_db": dup_db, "duplicate_transitions": len(dup_transitions),
        "client_duplicates": duplicates + client_dup_warnings, "sla_warnings_missing": warnings_missing,
        "sla_warnings_fired": sum(warned.values()), "resets": sum(o.resets for o in traffic.observers),
    }


def lost(figures: dict[str, Any]) -> int:
    """Everything counted as lost."""
    return figures["lost_events"] + figures["lost_cases"] + figures["missing_in_db"] + figures["sla_warnings_missing"]


def duplicated(figures: dict[str, Any]) -> int:
    """Everything counted as duplicated."""
    return figures["duplicate_cases_in_db"] + figures["duplicate_transitions"] + figures["client_duplicates"]


# ---- one fault under load -----------------------------------------------------------------------


async def inject(cluster: Cluster, traffic: Traffic, fault: str, hold_s: float) -> dict[str, Any]:
    """Apply `fault` (one of FAULTS); what it observed on the way (HTTP answers of skewed batches …)."""
    detail: dict[str, Any] = {}
    if fault == "redis_restart":
        await asyncio.to_thread(cluster.restart_redis)
    elif fault == "postgres_restart":
        await asyncio.to_thread(cluster.restart_postgres)
    elif fault.startswith("kill9_"):
        await asyncio.to_thread(cluster.kill9, "web1" if fault == "kill9_web" else fault[6:])
    elif fault == "reconnect_storm":
        traffic.reconnect_storm()
    elif fault == "slow_network":
        normal, traffic.proxy.rate = traffic.proxy.rate, max(1000, traffic.proxy.rate // 10)
        await asyncio.sleep(hold_s)
        traffic.proxy.rate = normal
    elif fault == "clock_skew":
        for _ in range(3):
            detail = await traffic.skew()
            await asyncio.sleep(hold_s / 3)
    else:
        raise ValueError(f"unknown fault {fault!r}")
    return detail


async def probe_subscribers(cluster: Cluster, count: int = 20) -> int:
    """Open `count` fresh connections per web process at once, each subscribing once; how many were refused.

    Unlike the resuming observers these do not retry, so a hub that fails a subscription (4011) shows here.
    """
    import json

    from websockets.asyncio.client import connect

    async def one(port: int) -> bool:
        try:
            async with connect(f"ws://127.0.0.1:{port}/ws/hub?token={cluster.seed['wall']}",
                               origin=f"http://127.0.0.1:{port}", open_timeout=10) as ws:
                await ws.send('{"op":"subscribe","topic":"cases"}')
                while True:
                    message = json.loads(await asyncio.wait_for(ws.recv(), 10))
                    if message["op"] in ("subscribed", "error"):
                        return message["op"] == "subscribed"
        except Exception:
            return False

    answers = await asyncio.gather(*(one(port) for port in cluster.web_ports for _ in range(count)))
    return answers.count(False)


async def page_recovers(page: Any, traffic: Traffic, after: float, timeout_s: float = 30.0) -> float:
    """Wait until the wall page is live again and shows a case accepted after `after`; seconds it took."""
    t0 = time.time()
    await page.wait_for_function(LIVE, timeout=timeout_s * 1000)
    deadline = time.time() + timeout_s
    while not (later := [cid for cid, at in traffic.accepted.items() if at > after + 1]):
        if time.time() > deadline:
            raise TimeoutError("no case was accepted after the fault")
        await asyncio.sleep(0.2)
    await page.wait_for_function(on_wall(max(later)), timeout=timeout_s * 1000)
    return round(time.time() - t0, 2)


async def run_fault(traffic: Traffic, fault: str, load_s: float, page: Any = None) -> dict[str, Any]:
    """One fault in the middle of `load_s` seconds of load; its row (figures since the previous row)."""
    cluster = traffic.cluster
    before = await check(traffic, time.time() - 15, settle_s=0.0)
    refusals_before = Counter(traffic.refusals)
    await probe_subscribers(cluster)  # leaves idle connections in the hub's Redis pools, as clients come and go
    await asyncio.sleep(load_s / 2)
    fault_at = time.time()
    detail = await inject(cluster, traffic, fault, load_s / 2)
    injected_s = time.time() - fault_at
    await asyncio.sleep(max(0.0, load_s / 2 - injected_s))
    page_s = await page_recovers(page, traffic, fault_at + injected_s) if page is not None else None
    recovery = None
    for _ in range(60):
        if (recovery := traffic.recovery_s(fault_at)) is not None:
            break
        await asyncio.sleep(0.5)
    refused = await probe_subscribers(cluster)
    for _ in range(10):  # what is late (the slow client, a process restarting) may still come
        after = await check(traffic, time.time() - 15)
        if lost(after) == 0:
            break
    return {
        "fault": fault,
        "events_accepted": after["events_accepted"] - before["events_accepted"],
        "cases_accepted": after["cases_accepted"] - before["cases_accepted"],
        "events_delivered": after["delivered"] - before["delivered"],
        "lost": lost(after), "duplicates": duplicated(after), "recovery_s": recovery, "page_recovery_s": page_s,
        "fresh_subscribers_refused": refused, "alive": all(cluster.alive().values()), "detail": detail,
        "http_refusals": dict(traffic.refusals - refusals_before), "figures": after,
    }


def table(rows: list[dict[str, Any]]) -> str:
    """The rows as a text table: fault × accepted, delivered, lost, duplicates, recovery, HTTP refusals."""
    head = f"{'fault':18s} {'accepted':>9s} {'cases':>6s} {'delivered':>10s} {'lost':>5s} {'dups':>5s} " \
           f"{'recovery_s':>10s} {'page_s':>7s}  refusals"
    lines = [head, "-" * len(head)]
    for r in rows:
        lines.append(f"{r['fault']:18s} {r['events_accepted']:9d} {r['cases_accepted']:6d} {r['events_delivered']:10d} "
                     f"{r['lost']:5d} {r['duplicates']:5d} {r['recovery_s']!s:>10s} {r['page_recovery_s']!s:>7s}  "
                     f"{r['http_refusals'] or '-'}")
    return "\n".join(lines)
