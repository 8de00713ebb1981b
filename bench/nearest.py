"""`wall bench nearest`: k nearest available workers with a skill filter, under a stream of position updates.

In-process: a NearestIndex of N workers, one thread moving workers at the target update rate while
the main thread runs the queries (arriving evenly over --seconds) and times each one (`query_*`), then
runs them again back to back (`back_to_back_*`). Then the same queries, back to back, through Redis
GEOSEARCH (one GEO set per skill holding the available workers, radius widened until k are found) and
through PostgreSQL KNN (`pos <-> point` on a GiST-indexed point column in a scratch database created
and dropped here), both loaded with where the workers ended up; `*_same_answers` is the share of
queries where that engine returns the same k workers as the index. Ratios are the other engine's p99
over the in-process p99. With `--incident RATE`, an incident is active meanwhile: a third thread asks
for every worker inside its 3 km ring RATE times a second (what the war room's nearby lists and ring
broadcasts ask of the index). The last line is JSON.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import threading
import time
from collections.abc import Callable

from bench import emit
from bench.procs import HostCpu
from dispatchd.geo.distance import local_frame, to_frame
from dispatchd.geo.nearest import Member, NearestIndex

ORIGIN = (22.70, 114.30)
SPAN_DEG = 0.27  # about 30 km × 28 km
SKILLS = ("electric", "water", "gas", "road", "green", "sanitation")
DEPARTMENTS = 20


def _log(message: str) -> None:
    print(f"bench nearest: {message}", file=sys.stderr, flush=True)


def _members(n: int, rng: random.Random) -> list[Member]:
    out = []
    for i in range(1, n + 1):
        skills = frozenset(rng.sample(SKILLS, rng.choice((1, 1, 2))))
        lat = ORIGIN[0] + rng.uniform(0, SPAN_DEG)
        lon = ORIGIN[1] + rng.uniform(0, SPAN_DEG)
        out.append(Member(i, lat, lon, skills, rng.randint(1, DEPARTMENTS), rng.random() < 0.8))
    return out


def _queries(n: int, rng: random.Random) -> list[tuple[float, float, str]]:
    return [
        (ORIGIN[0] + rng.uniform(0, SPAN_DEG), ORIGIN[1] + rng.uniform(0, SPAN_DEG), rng.choice(SKILLS))
        for _ in range(n)
    ]


def _percentiles(samples_ns: list[int]) -> tuple[float, float]:
    cuts = statistics.quantiles(samples_ns, n=100, method="inclusive")
    return cuts[49] / 1000, cuts[98] / 1000


def _timed(
    queries, run: Callable[[float, float, str], list[int]], spread_s: float = 0.0
) -> tuple[list[int], list[list[int]]]:
    """Run and time each query; with `spread_s`, the queries arrive evenly over that many seconds."""
    lat_ns, answers = [], []
    clock = time.perf_counter_ns
    begin, gap = time.perf_counter(), spread_s / max(1, len(queries))
    for n, (lat, lon, skill) in enumerate(queries):
        if gap and (delay := begin + n * gap - time.perf_counter()) > 0:
            time.sleep(delay)
        start = clock()
        ids = run(lat, lon, skill)
        lat_ns.append(clock() - start)
        answers.append(ids)
    return lat_ns, answers


class Mover(threading.Thread):
    """Moves random workers at `rate` updates per second, in small batches, until stopped."""

    def __init__(self, index: NearestIndex, members: list[Member], rate: float, seed: int) -> None:
        super().__init__(daemon=True)
        self.index, self.members, self.rate = index, members, rate
        self.rng = random.Random(seed)
        self.applied = 0
        self.halt = threading.Event()
        self.elapsed = 0.0

    def run(self) -> None:
        tick, per_tick = 0.01, max(1, round(self.rate * 0.01))
        start = time.perf_counter()
        next_at = start
        while not self.halt.is_set():
            for _ in range(per_tick):
                i = self.rng.randrange(len(self.members))
                m = self.members[i]
                moved = Member(m.id, m.lat + self.rng.uniform(-1e-4, 1e-4), m.lon + self.rng.uniform(-1e-4, 1e-4),
                               m.skills, m.department, m.available)
                self.members[i] = moved
                self.index.upsert(moved)
                self.applied += 1
            next_at += tick
            delay = next_at - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
        self.elapsed = time.perf_counter() - start


class RingQuerier(threading.Thread):
    """An active incident: every worker inside its outer ring, `rate` times a second, until stopped."""

    def __init__(self, index: NearestIndex, rate: float, radius_m: float = 3000.0) -> None:
        super().__init__(daemon=True)
        self.index, self.rate, self.radius_m = index, rate, radius_m
        self.centre = (ORIGIN[0] + SPAN_DEG / 2, ORIGIN[1] + SPAN_DEG / 2)
        self.halt = threading.Event()
        self.lat_ns: list[int] = []
        self.found: list[int] = []

    def run(self) -> None:
        gap = 1.0 / self.rate
        next_at = time.perf_counter()
        while not self.halt.is_set():
            start = time.perf_counter_ns()
            hits = self.index.within(*self.centre, self.radius_m)
            self.lat_ns.append(time.perf_counter_ns() - start)
            self.found.append(len(hits))
            next_at += gap
            self.halt.wait(max(0.0, next_at - time.perf_counter()))


def _in_process(members, queries, k, rate, seed, seconds, incident_rate=0.0) -> dict:
    index = NearestIndex(ORIGIN, cell_m=250.0)
    start = time.perf_counter()
    index.upsert_many(members)
    load_s = time.perf_counter() - start
    mover = Mover(index, list(members), rate, seed)
    mover.start()
    rings = RingQuerier(index, incident_rate) if incident_rate > 0 else None
    if rings is not None:
        rings.start()
    def query(la: float, lo: float, s: str) -> list[int]:
        return [h.member.id for h in index.nearest(la, lo, k, skill=s)]

    host = HostCpu()
    lat_ns, _ = _timed(queries, query, seconds)
    shares = host.shares()
    # The same queries back to back (updates still running): without the idle pauses between paced arrivals,
    # after which this machine's CPU runs the first microseconds of work several times slower.
    hot_ns, _ = _timed(queries, query)
    mover.halt.set()
    mover.join()
    incident = {}
    if rings is not None:
        rings.halt.set()
        rings.join()
        ring_p50, ring_p99 = _percentiles(rings.lat_ns)
        incident = {
            "incident_ring_queries": len(rings.lat_ns), "incident_ring_workers": round(statistics.mean(rings.found)),
            "incident_ring_p50_ms": round(ring_p50 / 1000, 2), "incident_ring_p99_ms": round(ring_p99 / 1000, 2),
        }
    p50, p99 = _percentiles(lat_ns)
    hot_p50, hot_p99 = _percentiles(hot_ns)
    settled = [[h.member.id for h in index.nearest(la, lo, k, skill=s)] for la, lo, s in queries]
    return {
        "query_p50_us": round(p50, 1), "query_p99_us": round(p99, 1), "query_max_us": round(max(lat_ns) / 1000, 1),
        "back_to_back_p50_us": round(hot_p50, 1), "back_to_back_p99_us": round(hot_p99, 1),
        "updates_per_s": round(mover.applied / mover.elapsed), "updates_applied": mover.applied,
        "update_max_per_s": round(len(members) / load_s), "answers": settled, "members": mover.members,
    } | incident | shares


def _redis(url: str, members, queries, k) -> dict:
    import redis

    client = redis.Redis.from_url(url)
    prefix = f"wall:bench:nearest:{os.getpid()}:"
    keys = [prefix + s for s in SKILLS]
    try:
        pipe = client.pipeline(transaction=False)
        for n, m in enumerate(members, start=1):
            if m.available:
                for skill in m.skills:
                    pipe.geoadd(prefix + skill, (m.lon, m.lat, m.id))
            if n % 5000 == 0:
                pipe.execute()
        pipe.execute()

        def run(lat: float, lon: float, skill: str) -> list[int]:
            radius = 500.0
            while True:
                found = client.geosearch(prefix + skill, longitude=lon, latitude=lat, radius=radius, unit="m",
                                         sort="ASC", count=k)
                if len(found) >= k or radius > 100_000:
                    return [int(x) for x in found]
                radius *= 2

        lat_ns, answers = _timed(queries, run)
    finally:
        client.delete(*keys)
        client.close()
    p50, p99 = _percentiles(lat_ns)
    return {"p50_us": round(p50, 1), "p99_us": round(p99, 1), "answers": answers}


def _postgres(url: str, members, queries, k) -> dict:
    import psycopg

    frame = local_frame(*ORIGIN)
    scratch = f"wall_bench_nearest_{os.getpid()}"
    admin = psycopg.connect(url, autocommit=True)
    admin.execute(f"CREATE DATABASE {scratch}")
    try:
        base = url.rsplit("/", 1)[0]
        with psycopg.connect(f"{base}/{scratch}", autocommit=True) as conn:
            conn.execute("CREATE TABLE workers (id int PRIMARY KEY, pos point, skills text[], available bool)")
            with conn.cursor().copy("COPY workers (id, pos, skills, available) FROM STDIN") as copy:
                for m in members:
                    x, y, _ = to_frame(m.lat, m.lon, frame)
                    copy.write_row((m.id, f"({x},{y})", list(m.skills), m.available))
            conn.execute("CREATE INDEX workers_pos ON workers USING gist (pos)")
            conn.execute("ANALYZE workers")
            sql = (
                "SELECT id FROM workers WHERE available AND skills @> ARRAY[%s]::text[] "
                "ORDER BY pos <-> point(%s, %s) LIMIT %s"
            )

            def run(lat: float, lon: float, skill: str) -> list[int]:
                x, y, _ = to_frame(lat, lon, frame)
                return [row[0] for row in conn.execute(sql, (skill, x, y, k), prepare=True)]

            lat_ns, answers = _timed(queries, run)
    finally:
        admin.execute(f"DROP DATABASE IF EXISTS {scratch} WITH (FORCE)")
        admin.close()
    p50, p99 = _percentiles(lat_ns)
    return {"p50_us": round(p50, 1), "p99_us": round(p99, 1), "answers": answers}


def _agreement(mine: list[list[int]], theirs: list[list[int]]) -> float:
    same = sum(set(a) == set(b) for a, b in zip(mine, theirs, strict=True))
    return round(same / len(mine), 4)


def main(argv: list[str], as_json: bool = False) -> int:
    """Run the bench; the last line printed is one JSON object of figures."""
    parser = argparse.ArgumentParser(prog="wall bench nearest")
    parser.add_argument("--workers", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=5000.0, help="position updates per second meanwhile")
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=6.0, help="the in-process queries arrive over this long")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--incident", type=float, default=0.0, metavar="RATE",
                        help="an incident is active: its 3 km ring is queried this many times a second meanwhile")
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0")
    parser.add_argument("--pg-url", default=os.environ.get("WALL_BENCH_PG_URL")
                        or "postgresql://postgres:postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--skip", action="append", default=[], choices=["redis", "postgres"])
    parser.add_argument("--json", action="store_true", help="print only the JSON line")
    args = parser.parse_args(argv)
    as_json = as_json or args.json

    rng = random.Random(args.seed)
    members = _members(args.workers, rng)
    queries = _queries(args.queries, rng)
    _log(f"{args.workers} workers, {args.queries} queries k={args.k} with a skill filter, {args.rate:g} updates/s")
    mine = _in_process(members, queries, args.k, args.rate, args.seed, args.seconds, args.incident)
    figures: dict = {"workers": args.workers, "queries": args.queries, "k": args.k}
    figures.update({key: value for key, value in mine.items() if key not in ("answers", "members")})
    for name, run, url in (("redis", _redis, args.redis_url), ("postgres", _postgres, args.pg_url)):
        if name in args.skip:
            figures[f"{name}_ratio"] = None
            continue
        _log(f"the same queries through {name}")
        other = run(url, mine["members"], queries, args.k)  # where the workers ended up
        figures.update({
            f"{name}_p50_us": other["p50_us"], f"{name}_p99_us": other["p99_us"],
            f"{name}_ratio": round(other["p99_us"] / mine["query_p99_us"], 1),
            f"{name}_p50_ratio": round(other["p50_us"] / mine["query_p50_us"], 1),
            f"{name}_same_answers": _agreement(mine["answers"], other["answers"]),
        })
    figures["target_p99_met"] = mine["query_p99_us"] <= 200.0
    emit(figures, as_json)
    return 0
