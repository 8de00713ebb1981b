"""The wall, console and playback pages in headless Chromium against a real demo server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bench.browser import LIVE, on_wall
from tests.browser.server import DemoServer

pytestmark = pytest.mark.browser

# Predicates are functions: the pages' Content-Security-Policy forbids evaluating an expression string.


def report(demo: DemoServer, title: str, severity: str = "major") -> dict:
    """Create a case through the API, in the middle of the district."""
    categories = demo.api("GET", "/api/categories").json()
    category = next(c for c in categories if c["parent_id"] is not None)
    answer = demo.api("POST", "/api/cases", json={
        "title": title, "category": category["id"], "lat": 22.712, "lon": 114.352, "source": "hotline",
        "severity": severity, "address": "浏览器测试路1号",
    })
    assert answer.status_code == 201, answer.text
    return answer.json()


def walk_near(demo: DemoServer, lat: float, lon: float, count: int = 3) -> None:
    """Fresh fixes for a few workers beside the point, so that they are on duty and nearest."""
    workers = demo.api("GET", "/api/workers").json()[-count:]
    for worker in workers:
        assert demo.api("POST", f"/api/workers/{worker['id']}/duty", json={"duty": "on_duty"}).status_code == 200
    now = datetime.now(UTC).isoformat()
    items = [{"worker_id": w["id"], "lat": lat + 0.001 * (i + 1), "lon": lon, "at": now} for i, w in enumerate(workers)]
    assert demo.api("POST", "/api/positions", json={"items": items}).status_code == 200


def open_wall(page_factory, demo: DemoServer, token: str):
    """The wall, live, with its case snapshot loaded."""
    page = page_factory(f"{demo.base}/wall/?token={token}")
    page.wait_for_function(LIVE, timeout=20_000)
    page.wait_for_function("() => document.body.hasAttribute('data-loaded-cases')", timeout=20_000)
    return page


def test_wall_renders_the_demo_city(page_factory, demo: DemoServer, wall_token: str) -> None:
    page = open_wall(page_factory, demo, wall_token)
    page.wait_for_function("() => document.querySelectorAll('[data-kpi]').length === 6", timeout=20_000)
    page.wait_for_function("() => window.wallPage.layers.workers.size() > 100", timeout=20_000)
    assert page.evaluate("window.wallPage.layers.cases.size()") > 10
    assert page.evaluate("window.wallPage.layers.sensors.size()") > 0
    assert page.evaluate("window.wallPage.layers.cameras.size()") > 0
    assert page.locator("#wall-feed li").count() > 10
    assert page.locator(".rank-list li").count() >= 2
    assert "城市运行管理服务指挥中心" in page.locator(".wall-header .title").inner_text()
    assert page.evaluate("document.querySelector('#wall-map canvas.wall-points') !== null")


def test_case_created_through_the_api_is_on_the_wall_within_a_second(
    page_factory, demo: DemoServer, wall_token: str
) -> None:
    page = open_wall(page_factory, demo, wall_token)
    case = report(demo, "浏览器测试：井盖缺失")
    page.wait_for_function(on_wall(case["id"]), timeout=1_000)
    item = page.locator(f'#wall-feed li[data-case-id="{case["id"]}"]')
    assert "浏览器测试：井盖缺失" in item.inner_text()
    assert "重大" in item.inner_text()
    assert page.evaluate(f"window.wallPage.layers.cases.get({case['id']}).pulse") is True


def test_kiosk_options_pick_panels_and_filter_a_street(page_factory, demo: DemoServer, wall_token: str) -> None:
    street = demo.api("GET", "/api/streets").json()[0]
    page = page_factory(f"{demo.base}/wall/?token={wall_token}&panels=map,feed&street={street['id']}&rotate=0")
    page.wait_for_function("() => document.body.hasAttribute('data-loaded-cases')", timeout=20_000)
    assert page.locator('[data-panel="map"]').is_visible()
    assert page.locator('[data-panel="feed"]').is_visible()
    assert not page.locator('[data-panel="kpi"]').is_visible()
    assert not page.locator('[data-panel="alarms"]').is_visible()
    streets = page.evaluate("Array.from(window.wallPage.cases.values()).map(c => c.street_id)")
    assert streets and set(streets) == {street["id"]}


def test_console_actions_change_the_wall_and_refusals_are_shown(
    page_factory, demo: DemoServer, wall_token: str
) -> None:
    wall = open_wall(page_factory, demo, wall_token)
    console = page_factory(f"{demo.base}/console/?token={demo.commander}")
    console.wait_for_function(LIVE, timeout=20_000)
    case = report(demo, "浏览器测试：路灯不亮", severity="normal")
    row = console.locator(f'#console-queue tr[data-case-id="{case["id"]}"]')
    row.wait_for(timeout=15_000)
    row.click()
    console.locator(f'#case-detail[data-case-id="{case["id"]}"]').wait_for(timeout=15_000)

    console.locator('.action-buttons [data-action="void"]').click()  # no reason given: refused
    refusal = console.locator('#action-result[data-result="refused"]')
    refusal.wait_for(timeout=15_000)
    assert "400" in refusal.inner_text() and "作废" in refusal.inner_text()

    console.locator('.action-buttons [data-action="accept"]').click()
    console.locator('#action-result[data-result="ok"]').wait_for(timeout=15_000)
    wall.wait_for_function(
        f"() => document.querySelector('#wall-feed li[data-case-id=\"{case['id']}\"] .status').dataset.status"
        " === 'accepted'",
        timeout=15_000,
    )

    console.locator('.action-buttons [data-action="register"]').click()
    console.wait_for_function("() => document.getElementById('detail-status').dataset.status === 'registered'",
                              timeout=15_000)
    walk_near(demo, case["lat"], case["lon"])
    console.locator("#find-nearest").click()
    console.locator("#nearest-list li[data-worker-id] button").first.wait_for(timeout=15_000)
    assert "km" in console.locator("#nearest-list li[data-worker-id]").first.inner_text()
    console.locator("#nearest-list li[data-worker-id] button").first.click()
    console.locator('#order-status[data-order-state="sent"]').wait_for(timeout=15_000)
    wall.wait_for_function(
        f"() => window.wallPage.cases.get({case['id']}).status === 'dispatched'", timeout=15_000
    )


def test_console_exports_the_case_list(page_factory, demo: DemoServer) -> None:
    console = page_factory(f"{demo.base}/console/?token={demo.commander}")
    console.wait_for_function("() => document.querySelectorAll('#console-queue tr').length > 5", timeout=20_000)
    with console.expect_download(timeout=10_000) as csv:
        console.locator("#export-csv").click()
    text = open(csv.value.path(), encoding="utf-8-sig").read()
    assert text.splitlines()[0].startswith("案件编号,标题")
    assert len(text.splitlines()) == console.locator("#console-queue tr").count() + 1
    with console.expect_download(timeout=10_000) as xlsx:
        console.locator("#export-xlsx").click()
    assert open(xlsx.value.path(), "rb").read(2) == b"PK"  # a zip: the xlsx container


def test_playback_draws_a_worker_trail(page_factory, demo: DemoServer) -> None:
    worker = demo.api("GET", "/api/workers").json()[0]
    now = datetime.now(UTC)
    fixes = [
        {"worker_id": worker["id"], "lat": 22.70 + i * 0.0004, "lon": 114.33 + i * 0.0003,
         "at": (now - timedelta(minutes=30 - i)).isoformat()}
        for i in range(20)
    ]
    assert demo.api("POST", "/api/positions", json={"items": fixes}).status_code == 200
    page = page_factory(f"{demo.base}/playback/?token={demo.commander}")
    page.locator("#play-worker").click()
    page.keyboard.type(worker["code"])
    page.keyboard.press("Enter")
    page.locator("#play-load").click()
    page.wait_for_function("() => Number(document.body.dataset.trailPoints) >= 20", timeout=10_000)
    assert page.evaluate("window.playbackPage.state().drawn") >= 20
    start = page.evaluate("window.playbackPage.state().t")
    page.locator("#play-toggle").click()
    page.wait_for_function(f"() => window.playbackPage.state().t > {start}", timeout=5_000)


def test_wall_recovers_by_itself_after_the_server_restarts(
    page_factory, demo: DemoServer, wall_token: str
) -> None:
    page = open_wall(page_factory, demo, wall_token)
    page.evaluate("window.__sameDocument = true")
    demo.stop()
    page.wait_for_function("() => document.getElementById('hub-status').dataset.status !== 'live'", timeout=10_000)
    demo.start()
    case = report(demo, "浏览器测试：重启后上报")  # may land before the wall reconnects: the snapshot has it
    page.wait_for_function(LIVE, timeout=30_000)
    page.wait_for_function(on_wall(case["id"]), timeout=10_000)
    assert page.evaluate("window.__sameDocument") is True  # resumed without reloading the page
