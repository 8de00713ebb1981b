"""The war room in headless Chromium: an open wall follows incidents in-page; the war-room page acts and reports."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.browser.server import ROOT, DemoServer
from tests.browser.test_pages import walk_near

pytestmark = pytest.mark.browser

CENTRE = (22.712, 114.352)
M_LAT = 1 / 110_750  # degrees of latitude per metre


def declare(demo: DemoServer) -> dict:
    """Declare an incident directly, in the middle of the district."""
    category = next(c for c in demo.api("GET", "/api/categories").json() if c["parent_id"] is not None)
    answer = demo.api("POST", "/api/incidents", json={
        "title": "化工园区燃气泄漏", "lat": CENTRE[0], "lon": CENTRE[1], "category": category["id"], "level": 1,
        "commander": "王建国",
    })
    assert answer.status_code == 201, answer.text
    return answer.json()


def place(demo: DemoServer, worker_id: int, metres_north: float) -> None:
    """A fresh fix of the worker `metres_north` of the incident centre."""
    fix = {"worker_id": worker_id, "lat": CENTRE[0] + metres_north * M_LAT, "lon": CENTRE[1],
           "at": datetime.now(UTC).isoformat()}
    assert demo.api("POST", "/api/positions", json={"items": [fix]}).status_code == 200


def in_ring(worker_id: int, ring: int) -> str:
    """JS: the worker is listed in the ring's section of the nearby list."""
    return f"!!document.querySelector('#wr-workers [data-ring=\"{ring}\"] li[data-worker-id=\"{worker_id}\"]')"


def test_a_wall_switches_to_the_war_room_and_back_without_reloading(page_factory, demo: DemoServer, wall_token):
    page = page_factory(f"{demo.base}/wall/?token={wall_token}")
    page.wait_for_function("document.body.dataset.mode === 'peacetime'", timeout=20_000)
    page.evaluate("window.notReloaded = true")
    incident = declare(demo)
    try:
        page.wait_for_function(
            f"document.body.dataset.incident === '{incident['id']}' && "
            "!document.getElementById('warroom-stage').hidden && document.getElementById('wall-stage').hidden",
            timeout=1_000,
        )
        assert page.locator("#wr-title").inner_text() == "化工园区燃气泄漏"
    finally:
        assert demo.api("POST", f"/api/incidents/{incident['id']}/stand-down").status_code == 200
    back = "document.body.dataset.mode === 'peacetime' && !document.getElementById('wall-stage').hidden"
    page.wait_for_function(back, timeout=5_000)
    assert page.evaluate("window.notReloaded") is True


def test_a_pinned_wall_stays_in_peacetime(page_factory, demo: DemoServer, wall_token):
    page = page_factory(f"{demo.base}/wall/?token={wall_token}&follow=0")
    page.wait_for_function("document.getElementById('hub-status')?.dataset.status === 'live'", timeout=20_000)
    incident = declare(demo)
    try:
        page.wait_for_timeout(1_500)  # give a following wall ample time; this one must not move
        assert page.evaluate("document.body.dataset.mode") is None
        assert page.evaluate("document.getElementById('warroom-stage').hidden") is True
    finally:
        demo.api("POST", f"/api/incidents/{incident['id']}/stand-down")


def test_the_war_room_page_tracks_rings_dispatches_and_reports(page_factory, demo: DemoServer):
    walk_near(demo, *CENTRE, count=4)
    incident = declare(demo)
    base = f"/api/incidents/{incident['id']}"
    size = (3840, 2160) if os.environ.get("WALL_DOCS_SCREENSHOTS") == "1" else (1920, 1080)
    page = page_factory(f"{demo.base}/warroom/{incident['id']}?token={demo.commander}", *size)
    try:
        page.wait_for_function("document.querySelectorAll('#wr-timeline li').length >= 1", timeout=20_000)
        roamer = demo.api("GET", "/api/workers").json()[0]["id"]
        place(demo, roamer, 300)
        page.wait_for_function(in_ring(roamer, 500), timeout=10_000)
        place(demo, roamer, 2000)  # walks out of the inner ring, into the 3 km ring
        page.wait_for_function(in_ring(roamer, 3000) + " && !" + in_ring(roamer, 500), timeout=10_000)

        page.fill("#wr-n", "2")
        page.click("#wr-dispatch")
        page.wait_for_function("document.querySelectorAll('#wr-responders li[data-ack=\"offered\"]').length === 2",
                               timeout=10_000)
        responders = demo.api("GET", base).json()["responders"]
        first = responders[0]
        answer = demo.api("POST", f"/api/workers/{first['worker_id']}/orders/{first['order_id']}/accept", json={})
        assert answer.status_code == 200, answer.text
        page.wait_for_function(
            f"document.querySelector('#wr-responders li[data-worker-id=\"{first['worker_id']}\"]')"
            "?.dataset.ack === 'accepted'", timeout=10_000)

        page.select_option("#wr-ring", "500")
        page.fill("#wr-text", "立即疏散周边群众")
        page.click("#wr-broadcast")
        page.wait_for_function("!!document.querySelector('#wr-timeline li[data-kind=\"broadcast\"]')", timeout=10_000)
        sent = demo.api("GET", f"{base}/broadcasts").json()[0]
        inside = {w["worker_id"] for w in demo.api("GET", f"{base}/nearby").json()["workers"] if w["ring_m"] == 500}
        assert {r["worker_id"] for r in sent["receipts"]} == inside
        page.fill("#wr-note", "消防救援到场")
        page.click("#wr-add-note")
        page.wait_for_function("!!document.querySelector('#wr-timeline li[data-kind=\"note\"]')", timeout=10_000)
        if size[0] == 3840:
            page.wait_for_timeout(1_500)
            page.screenshot(path=str(Path(ROOT) / "docs" / "img" / "warroom.png"))
    finally:
        demo.api("POST", f"{base}/stand-down")
    timeline = demo.api("GET", f"{base}/report").json()["timeline"]
    report = page_factory(f"{demo.base}/warroom/{incident['id']}/report?token={demo.commander}")
    report.wait_for_function("!!document.getElementById('wr-report-timeline')", timeout=20_000)
    rows = report.locator("#wr-report-timeline tr").count() - 1
    assert rows == len(timeline) and {a["kind"] for a in timeline} >= {
        "declared", "dispatch", "ack", "broadcast", "note", "stood_down"}
