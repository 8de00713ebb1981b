"""Each fault once under load: nothing accepted is lost or duplicated, the wall page recovers by itself.

The table (fault × events accepted, cases accepted, events delivered, lost, duplicates, recovery) is
printed; run with `-s` to see it. Definitions: bench/faults.py.
"""

from __future__ import annotations

import subprocess
import time

from bench.browser import CHROMIUM, CHROMIUM_ARGS, LIVE
from bench.cluster import Cluster
from bench.faults import FAULTS, Traffic, db_rows, run_fault, table
from bench.hub import BIN, ROOT

LOAD_S = 6.0
RSS_GROWTH_MAX = 1.5  # the short run also warms caches up; the soak bench holds the 10 % bound


async def test_no_fault_loses_or_duplicates_anything(cluster: Cluster) -> None:
    from playwright.async_api import async_playwright

    rss0 = cluster.rss_mb()
    traffic = await Traffic(cluster).start()
    rows = []
    try:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = await browser.new_page(viewport={"width": 1920, "height": 1080})
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            await page.goto(f"{cluster.web_base(0)}/wall/?token={cluster.seed['wall']}")
            await page.wait_for_function(LIVE, timeout=30_000)
            for fault in FAULTS:
                rows.append(await run_fault(traffic, fault, LOAD_S, page))
            await browser.close()
    finally:
        await traffic.stop()
    print("\n" + table(rows))
    rss1 = cluster.rss_mb()
    print(f"RSS MiB before {rss0} after {rss1}")
    for row in rows:
        assert row["alive"], row
        assert row["lost"] == 0, row
        assert row["duplicates"] == 0, row
        assert row["recovery_s"] is not None, row
        assert row["fresh_subscribers_refused"] == 0, row
        assert row["events_delivered"] > 0, row
        assert 500 not in row["http_refusals"], row  # a service down answers 503 (retry), never 500
    skewed = next(r for r in rows if r["fault"] == "clock_skew")["detail"]
    assert skewed["future"] == 400, skewed  # a fix 10 min ahead is refused, nothing stored
    assert skewed["past"] in (200, 400), skewed  # a late fix is handled by the rules, never a crash
    assert skewed["ws_future"] == "invalid_position" and skewed["ws_now"] == "ack", skewed
    assert skewed["ws_past"] in ("ack", "invalid_position"), skewed
    last = rows[-1]["figures"]
    assert last["sla_warnings_fired"] > 0 and last["sla_warnings_missing"] == 0, last
    assert not errors, errors
    # web2 is the one process no fault restarts; the others are new processes by now
    assert rss1["web2"] <= rss0["web2"] * RSS_GROWTH_MAX, (rss0, rss1)


def _cameras(cluster: Cluster) -> int:
    return db_rows(cluster, "SELECT count(*) FROM dispatchd_camera")[0][0]


def _simulate(cluster: Cluster, first: int) -> subprocess.Popen:
    argv = [str(BIN / "wall"), "simulate", "cameras", "--count", "1", "--first", str(first),
            "--server-port", str(cluster.sip_port), "--keepalive", "2"]
    return subprocess.Popen(argv, cwd=ROOT, env=cluster.env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _wait_cameras(cluster: Cluster, count: int, timeout: float = 30.0) -> int:
    deadline = time.monotonic() + timeout
    while (seen := _cameras(cluster)) < count and time.monotonic() < deadline:
        time.sleep(0.3)
    return seen


def test_sip_writes_to_the_database_again_after_postgres_restarts(cluster: Cluster) -> None:
    cameras = [_simulate(cluster, 901)]
    try:
        before = _wait_cameras(cluster, 1)
        assert before >= 1, (cluster.workdir / "sip.log").read_text()[-3000:]
        cluster.restart_postgres()  # the sip process's connection from the first camera is now broken
        cameras.append(_simulate(cluster, 902))
        after = _wait_cameras(cluster, before + 1)
        assert after == before + 1, (cluster.workdir / "sip.log").read_text()[-3000:]
    finally:
        for proc in cameras:
            proc.kill()
            proc.wait(10)
