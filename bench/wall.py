"""`wall bench wall`: the wall page in headless Chromium under 5,000 moving workers at 1 Hz plus 1 case/s.

Sets up a private redis-server and a data dir with the demo city (no history), serves it with
`wall serve`, opens /wall/ with a `wall` token in Debian's Chromium and, once it is live, feeds for
--seconds: every second one position per worker (published straight into the hub's `positions`
stream, as the position pipeline would) and one case through the API. The page is measured with a
PerformanceObserver for long tasks (main-thread tasks over 50 ms), a requestAnimationFrame counter
and the JS heap (after a forced GC) at the start and end of the measured window.

long_task_p95_ms is the 95th percentile, over the one-second windows of the run, of the longest task
in each window (0 when the browser saw no long task in it); long_task_max_ms the longest of all.
With --profile the bench also times every redraw of each map layer in the page (the layer's draw call
followed by a one-pixel read of its canvas, which forces the deferred canvas raster into the measured time)
and reports per layer the redraw count, median, p95 and max in ms; the read-back itself slows the page a
little, so long-task figures of a profiled run are not comparable with an unprofiled one.
The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

from bench import emit
from bench.browser import CHROMIUM, CHROMIUM_ARGS, predicate
from bench.procs import RedisServer, free_port, stop_process, wait_port

ROOT = Path(__file__).resolve().parents[1]
WALL = str(Path(sys.executable).with_name("wall"))
BOUNDS = (22.665, 114.29, 22.754, 114.41)  # south, west, north, east of the demo district
SETUP = """
import django
django.setup()
from django.core.management import call_command
call_command("migrate", interactive=False, verbosity=0)
from dispatchd.demo import seed_demo_city
seed_demo_city(history=False)
from wall.auth import create_token
print(create_token("commander", "bench-commander"), create_token("wall", "bench-wall"))
"""
OBSERVE = """() => {
  window.__bench = {longTasks: [], frames: 0};
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) window.__bench.longTasks.push([entry.startTime, entry.duration]);
  }).observe({type: "longtask"});
  const count = () => { window.__bench.frames++; requestAnimationFrame(count); };
  requestAnimationFrame(count);
  return performance.now();
}"""
PROFILE = """() => {
  const draws = window.__benchDraws = {};
  for (const [name, layer] of Object.entries(window.wallPage.layers)) {
    const times = draws[name] = [];
    const draw = layer._draw;
    layer._draw = function (time) {
      const start = performance.now();
      draw.call(this, time);
      if (this._canvas.width && this._canvas.height) this._ctx.getImageData(0, 0, 1, 1);
      times.push(performance.now() - start);
    };
  }
}"""


def _log(message: str) -> None:
    print(f"bench wall: {message}", file=sys.stderr, flush=True)


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


class Feeder:
    """Moves N workers once a second (into the hub's positions stream) and reports a case a second."""

    def __init__(self, workers: int, base: str, token: str, category: int) -> None:
        self.rng = random.Random(7)
        south, west, north, east = BOUNDS
        self.points = [[self.rng.uniform(south, north), self.rng.uniform(west, east)] for _ in range(workers)]
        self.base, self.token, self.category = base, token, category
        self.stop = threading.Event()
        self.cases = self.case_errors = self.ticks = 0
        self.late_ticks = 0

    def positions(self) -> list[dict]:
        """One position event per worker, each moved a few metres."""
        now = datetime.now(UTC).isoformat()
        events = []
        for worker_id, point in enumerate(self.points, start=1):
            point[0] += self.rng.uniform(-0.00005, 0.00005)
            point[1] += self.rng.uniform(-0.00005, 0.00005)
            state = "busy" if worker_id % 7 == 0 else "on_duty"
            events.append({"type": "position", "data": {
                "worker_id": worker_id, "lat": point[0], "lon": point[1], "at": now, "status": state, "state": state,
            }})
        return events

    def run(self) -> None:
        """Feed until stopped, on a one-second beat."""
        from realtime import publish_many

        client = httpx.Client(base_url=self.base, headers={"Authorization": f"Bearer {self.token}"}, timeout=10)
        south, west, north, east = BOUNDS
        beat = time.monotonic()
        while not self.stop.is_set():
            publish_many("positions", self.positions())
            answer = client.post("/api/cases", json={
                "title": f"压测案件 {self.cases + 1}", "category": self.category, "source": "hotline",
                "lat": self.rng.uniform(south + 0.01, north - 0.01), "lon": self.rng.uniform(west + 0.01, east - 0.01),
                "severity": self.rng.choice(["low", "normal", "high", "major"]),
            })
            self.cases += answer.status_code == 201
            self.case_errors += answer.status_code != 201
            self.ticks += 1
            beat += 1.0
            delay = beat - time.monotonic()
            if delay < 0:
                self.late_ticks += 1
                beat = time.monotonic()
            self.stop.wait(max(0.0, delay))
        client.close()


def _prepare(data_dir: Path, env: dict[str, str]) -> tuple[str, str]:
    out = subprocess.run([sys.executable, "-c", SETUP], env=env, cwd=ROOT, capture_output=True, text=True)
    if out.returncode:
        raise RuntimeError(out.stderr[-3000:])
    commander, wall = out.stdout.strip().splitlines()[-1].split()
    return commander, wall


def _draw_figures(draws: dict[str, list[float]], seconds: float) -> dict:
    """Per layer: redraws per second and the median, p95 and max time of one redraw (ms)."""
    return {name: {"redraws_per_s": round(len(times) / seconds, 1), "median_ms": round(_percentile(times, 0.5), 2),
                   "p95_ms": round(_percentile(times, 0.95), 2), "max_ms": round(max(times, default=0.0), 2)}
            for name, times in draws.items()}


def _measure(base: str, wall_token: str, feeder: Feeder, seconds: float, warmup: float, size: tuple[int, int],
             profile: bool = False) -> dict:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        # the bench's own probes are evaluated scripts, which the page's Content-Security-Policy forbids
        page = browser.new_page(viewport={"width": size[0], "height": size[1]}, bypass_csp=True)
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(f"{base}/wall/?token={wall_token}")
        page.wait_for_function(predicate("document.getElementById('hub-status')?.dataset.status === 'live'"),
                               timeout=60_000)
        page.wait_for_function(predicate("document.body.hasAttribute('data-loaded-cases')"), timeout=60_000)
        cdp = page.context.new_cdp_session(page)
        thread = threading.Thread(target=feeder.run, name="bench-feeder", daemon=True)
        thread.start()
        _log(f"feeding; warming up {warmup:.0f} s")
        page.wait_for_timeout(warmup * 1000)
        cdp.send("HeapProfiler.collectGarbage")
        heap_start = cdp.send("Runtime.getHeapUsage")["usedSize"]
        if profile:
            page.evaluate(PROFILE)
        started = page.evaluate(OBSERVE)
        _log(f"measuring {seconds:.0f} s")
        page.wait_for_timeout(seconds * 1000)
        result = page.evaluate("() => ({bench: window.__bench, now: performance.now(),"
                               " markers: window.wallPage.layers.workers.size(),"
                               " cases: window.wallPage.layers.cases.size(), draws: window.__benchDraws || null})")
        cdp.send("HeapProfiler.collectGarbage")
        heap_end = cdp.send("Runtime.getHeapUsage")["usedSize"]
        feeder.stop.set()
        thread.join(15)
        browser.close()
    window_s = (result["now"] - started) / 1000
    worst: dict[int, float] = {}
    for start, duration in result["bench"]["longTasks"]:
        second = int((start - started) / 1000)
        worst[second] = max(worst.get(second, 0.0), duration)
    per_second = [worst.get(s, 0.0) for s in range(max(1, int(window_s)))]
    durations = [d for _s, d in result["bench"]["longTasks"]]
    figures = {
        "markers": result["markers"],
        "long_task_p95_ms": round(_percentile(per_second, 0.95), 1),
        "long_task_max_ms": round(max(durations, default=0.0), 1),
        "long_tasks": len(durations),
        "long_task_total_ms": round(sum(durations), 1),
        "frames": result["bench"]["frames"],
        "fps": round(result["bench"]["frames"] / window_s, 1),
        "heap_start_mb": round(heap_start / 2**20, 2),
        "heap_end_mb": round(heap_end / 2**20, 2),
        "heap_growth_pct": round(100 * (heap_end - heap_start) / heap_start, 1),
        "cases_on_map": result["cases"],
        "page_errors": len(errors),
    }
    if result["draws"] is not None:
        figures["redraws"] = _draw_figures(result["draws"], window_s)
    return figures


def main(argv: list[str], as_json: bool = False) -> int:
    """Run the bench; print figures, the last line one JSON object."""
    parser = argparse.ArgumentParser(prog="wall bench wall", description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=5000)
    parser.add_argument("--seconds", type=float, default=60.0, help="measured window")
    parser.add_argument("--warmup", type=float, default=10.0)
    parser.add_argument("--width", type=int, default=1920, help="viewport (the wall scales its 3840×2160 stage)")
    parser.add_argument("--height", type=int, default=1080)
    parser.add_argument("--profile", action="store_true", help="also time each map layer's redraws in the page")
    args = parser.parse_args(argv)
    if not shutil.which("redis-server"):
        print("bench wall: redis-server is required", file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix="bench-wall-"))
    redis, port = RedisServer(work), free_port()
    env = dict(os.environ, WALL_DATA_DIR=str(work), REDIS_URL=redis.url,
               DJANGO_SETTINGS_MODULE="wall.settings", WALL_LOG_LEVEL="WARNING")
    env.pop("DATABASE_URL", None)
    server = None
    try:
        redis.start()
        _log("seeding the demo city (no history)")
        commander, wall_token = _prepare(work, env)
        with open(work / "serve.log", "wb") as log:
            server = subprocess.Popen([WALL, "serve", "--port", str(port)], env=env, cwd=ROOT, stdout=log,
                                      stderr=subprocess.STDOUT)
        wait_port(port, server, 60)
        base = f"http://127.0.0.1:{port}"
        os.environ.update({k: env[k] for k in ("WALL_DATA_DIR", "REDIS_URL", "DJANGO_SETTINGS_MODULE")})
        import django

        django.setup()
        logging.getLogger("httpx").setLevel(logging.WARNING)
        categories = httpx.get(f"{base}/api/categories", headers={"Authorization": f"Bearer {commander}"}).json()
        category = next(c["id"] for c in categories if c["parent_id"] is not None)
        feeder = Feeder(args.workers, base, commander, category)
        figures = _measure(base, wall_token, feeder, args.seconds, args.warmup, (args.width, args.height),
                           args.profile)
        figures.update({"seconds": args.seconds, "cases_reported": feeder.cases, "case_errors": feeder.case_errors,
                        "feed_ticks": feeder.ticks, "late_feed_ticks": feeder.late_ticks})
    finally:
        stop_process(server)
        redis.stop()
        shutil.rmtree(work, ignore_errors=True)
    emit(figures, as_json)
    return 0
