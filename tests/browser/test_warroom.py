"""The war room in headless Chromium: an open wall follows incidents in-page; the war-room page acts and reports."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest

from bench.browser import predicate as js
from tests.browser.server import ROOT, DemoServer
from tests.browser.test_camera_tiles import (
    DOCS_SIZE,
    LIVE_TIMEOUT_MS,
    decoded,
    docs_screenshot,
    simulated_camera,
    tile_state,
)
from tests.browser.test_pages import walk_near
from tests.realtime.servers import WALL

pytestmark = pytest.mark.browser

CENTRE = (22.712, 114.352)
M_LAT = 1 / 110_750  # degrees of latitude per metre


def declare(demo: DemoServer, centre: tuple[float, float] = CENTRE) -> dict:
    """Declare an incident directly, in the middle of the district (or at `centre`)."""
    category = next(c for c in demo.api("GET", "/api/categories").json() if c["parent_id"] is not None)
    answer = demo.api("POST", "/api/incidents", json={
        "title": "化工园区燃气泄漏", "lat": centre[0], "lon": centre[1], "category": category["id"], "level": 1,
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
    page.wait_for_function(js("document.body.dataset.mode === 'peacetime'"), timeout=20_000)
    page.evaluate("window.notReloaded = true")
    incident = declare(demo)
    try:
        page.wait_for_function(
            js(f"document.body.dataset.incident === '{incident['id']}' && "
            "!document.getElementById('warroom-stage').hidden && document.getElementById('wall-stage').hidden"),
            timeout=1_000,
        )
        assert page.locator("#wr-title").inner_text() == "化工园区燃气泄漏"
    finally:
        assert demo.api("POST", f"/api/incidents/{incident['id']}/stand-down").status_code == 200
    back = "document.body.dataset.mode === 'peacetime' && !document.getElementById('wall-stage').hidden"
    page.wait_for_function(js(back), timeout=5_000)
    assert page.evaluate("window.notReloaded") is True


def test_a_pinned_wall_stays_in_peacetime(page_factory, demo: DemoServer, wall_token):
    page = page_factory(f"{demo.base}/wall/?token={wall_token}&follow=0")
    page.wait_for_function(js("document.getElementById('hub-status')?.dataset.status === 'live'"), timeout=20_000)
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
    page = page_factory(f"{demo.base}/warroom/{incident['id']}?token={demo.commander}")
    try:
        page.wait_for_function(js("document.querySelectorAll('#wr-timeline li').length >= 1"), timeout=20_000)
        roamer = demo.api("GET", "/api/workers").json()[0]["id"]
        place(demo, roamer, 300)
        page.wait_for_function(js(in_ring(roamer, 500)), timeout=10_000)
        place(demo, roamer, 2000)  # walks out of the inner ring, into the 3 km ring
        page.wait_for_function(js(in_ring(roamer, 3000) + " && !" + in_ring(roamer, 500)), timeout=10_000)

        page.fill("#wr-n", "2")
        page.click("#wr-dispatch")
        page.wait_for_function(js("document.querySelectorAll('#wr-responders li[data-ack=\"offered\"]').length === 2"),
                               timeout=10_000)
        responders = demo.api("GET", base).json()["responders"]
        first = responders[0]
        answer = demo.api("POST", f"/api/workers/{first['worker_id']}/orders/{first['order_id']}/accept", json={})
        assert answer.status_code == 200, answer.text
        page.wait_for_function(
            js(f"document.querySelector('#wr-responders li[data-worker-id=\"{first['worker_id']}\"]')"
            "?.dataset.ack === 'accepted'"), timeout=10_000)

        page.select_option("#wr-ring", "500")
        page.fill("#wr-text", "立即疏散周边群众")
        page.click("#wr-broadcast")
        page.wait_for_function(js("!!document.querySelector('#wr-timeline li[data-kind=\"broadcast\"]')"),
                               timeout=10_000)
        sent = demo.api("GET", f"{base}/broadcasts").json()[0]
        inside = {w["worker_id"] for w in demo.api("GET", f"{base}/nearby").json()["workers"] if w["ring_m"] == 500}
        assert {r["worker_id"] for r in sent["receipts"]} == inside
        page.fill("#wr-note", "消防救援到场")
        page.click("#wr-add-note")
        page.wait_for_function(js("!!document.querySelector('#wr-timeline li[data-kind=\"note\"]')"), timeout=10_000)
    finally:
        demo.api("POST", f"{base}/stand-down")
    timeline = demo.api("GET", f"{base}/report").json()["timeline"]
    report = page_factory(f"{demo.base}/warroom/{incident['id']}/report?token={demo.commander}")
    report.wait_for_function(js("!!document.getElementById('wr-report-timeline')"), timeout=20_000)
    rows = report.locator("#wr-report-timeline tr").count() - 1
    assert rows == len(timeline) and {a["kind"] for a in timeline} >= {
        "declared", "dispatch", "ack", "broadcast", "note", "stood_down"}


@pytest.fixture(scope="module")
def gas_sensor(demo: DemoServer) -> dict:
    """A combustible-gas sensor of the demo city: the next incident happens there."""
    return next(s for s in demo.api("GET", "/api/sensors").json() if s["type"] == "gas")


@pytest.fixture(scope="module")
def camera_at_sensor(demo: DemoServer, gas_sensor: dict) -> Iterator[dict]:
    """A simulated camera 40 m from the gas sensor: the nearest online camera of an incident there."""
    with simulated_camera(demo, 9002, gas_sensor["lat"] + 40 * M_LAT, gas_sensor["lon"]) as row:
        yield row


def httpx_post(demo: DemoServer, path: str, token: str):
    """POST as someone other than the demo commander."""
    return httpx.post(demo.base + path, headers={"Authorization": f"Bearer {token}"}, json={}, timeout=15)


def worker_token(demo: DemoServer, code: str) -> str:
    """A worker's own API token (`wall token create --role worker --worker CODE`)."""
    out = subprocess.run([WALL, "token", "create", "--role", "worker", "--name", code, "--worker", code], env=demo.env,
                         cwd=ROOT, capture_output=True, text=True, check=True)
    return out.stdout.strip().splitlines()[-1]


def test_the_war_room_plays_the_nearest_camera_and_shows_receipts_cases_and_alarms_live(
        page_factory, demo: DemoServer, gas_sensor, camera_at_sensor):
    centre = (gas_sensor["lat"], gas_sensor["lon"])
    walk_near(demo, *centre, count=3)
    incident = declare(demo, centre)
    base = f"/api/incidents/{incident['id']}"
    page = page_factory(f"{demo.base}/warroom/{incident['id']}?token={demo.commander}", *DOCS_SIZE)
    try:
        camera = camera_at_sensor["id"]
        page.wait_for_function(tile_state(camera, "live", "#wr-cameras"), timeout=LIVE_TIMEOUT_MS)
        assert page.evaluate("document.querySelector('#wr-cameras .camera-tile').dataset.cameraId") == str(camera)
        assert decoded(page, "window.WarRoom.cameraTiles", camera)["framesDecoded"] > 0
        page.wait_for_function(js(f"document.body.dataset.localLoaded === '{incident['id']}'"), timeout=10_000)
        own = f"#wr-local li.wr-case.own[data-case-id=\"{incident['case_id']}\"]"
        assert page.evaluate(f"!!document.querySelector('{own}')")

        # orders to the nearest three, each with its worker's answer
        orders = demo.api("POST", f"{base}/dispatch-nearest", json={"n": 3}).json()["orders"]
        first = orders[0]
        answer = demo.api("POST", f"/api/workers/{first['worker_id']}/orders/{first['id']}/accept", json={})
        assert answer.status_code == 200, answer.text
        accepted = f"#wr-responders li[data-worker-id=\"{first['worker_id']}\"]"
        page.wait_for_function(js(f"document.querySelector('{accepted}')?.dataset.ack === 'accepted' && "
                                  f"document.querySelectorAll('#wr-responders li[data-ack]').length === {len(orders)}"),
                               timeout=10_000)

        # a broadcast to the inner ring: "read 0 of m", then a worker reads it on the phone
        sent = demo.api("POST", f"{base}/broadcast", json={"ring_m": 500, "text": "立即疏散周边群众"})
        assert sent.status_code == 201, sent.text
        sent = sent.json()
        assert sent["delivered"] >= 1
        row = f"#wr-broadcasts li[data-broadcast-id=\"{sent['id']}\"]"
        page.wait_for_function(js(f"document.querySelector('{row}')?.dataset.read === '0' && "
                                  f"document.querySelector('{row}').dataset.delivered === '{sent['delivered']}'"),
                               timeout=10_000)
        reader = sent["receipts"][0]["worker_id"]
        code = next(w["code"] for w in demo.api("GET", "/api/workers").json() if w["id"] == reader)
        answer = httpx_post(demo, f"{base}/broadcasts/{sent['id']}/read", worker_token(demo, code))
        assert answer.status_code == 200, answer.text
        page.wait_for_function(js(f"document.querySelector('{row}').dataset.read === '1' && document.querySelector("
                                  f"'{row} .bc-who [data-worker-id=\"{reader}\"]').dataset.read === '1'"),
                               timeout=5_000)
        assert f"已读 1/{sent['delivered']}" in page.locator(row).inner_text()

        # a new case beside the incident and a gas alarm at its sensor appear without a reload
        category = next(c for c in demo.api("GET", "/api/categories").json() if c["parent_id"] is not None)
        case = demo.api("POST", "/api/cases", json={"title": "现场围观人员聚集", "category": category["id"],
                                                     "lat": centre[0] + 100 * M_LAT, "lon": centre[1]})
        assert case.status_code == 201, case.text
        page.wait_for_function(js(f"!!document.querySelector('#wr-local li[data-case-id=\"{case.json()['id']}\"]')"),
                               timeout=5_000)
        reading = {"sensor": gas_sensor["code"], "at": datetime.now(UTC).isoformat(), "value": 55.0}
        assert demo.api("POST", "/api/sensors/readings", json={"items": [reading]}).status_code == 200
        raised = None
        for _ in range(50):  # the daemon applies the alarm rules
            raised = next((a for a in demo.api("GET", "/api/alarms?state=raised").json()
                           if a["sensor_id"] == gas_sensor["id"]), None)
            if raised:
                break
            page.wait_for_timeout(200)
        assert raised, "no alarm raised for the gas reading"
        alarm_row = f"#wr-local li.wr-alarm[data-alarm-id=\"{raised['id']}\"]"
        page.wait_for_function(js(f"!!document.querySelector('{alarm_row}')"), timeout=5_000)
        docs_screenshot(page, "warroom.png")
    finally:
        demo.api("POST", f"{base}/stand-down")


def test_a_wall_hands_its_cameras_to_the_war_room_and_takes_them_back(page_factory, demo: DemoServer, wall_token,
                                                                      gas_sensor, camera_at_sensor):
    camera = camera_at_sensor["id"]
    page = page_factory(f"{demo.base}/wall/?token={wall_token}")
    wall_tiles = "[...document.querySelectorAll('#wall-cameras .camera-tile')]"
    page.wait_for_function(js(f"document.body.dataset.mode === 'peacetime' && {wall_tiles}.length === 4 && "
                              f"{wall_tiles}.every(t => t.dataset.cameraId)"), timeout=20_000)
    incident = declare(demo, (gas_sensor["lat"], gas_sensor["lon"]))
    try:
        page.wait_for_function(tile_state(camera, "live", "#wr-cameras"), timeout=LIVE_TIMEOUT_MS)
        # the hidden wall's tiles let their streams go: the war room's is the camera's only viewer
        states = page.evaluate(f"{wall_tiles}.map(t => t.dataset.state)")
        assert not {"live", "connecting", "error"} & set(states), states
        viewers = [s["viewers"] for s in demo.api("GET", "/api/cameras/streams").json()
                   if s["channel_id"] == camera_at_sensor["gb_id"]]
        assert viewers == [1], viewers
    finally:
        assert demo.api("POST", f"/api/incidents/{incident['id']}/stand-down").status_code == 200
    page.wait_for_function(js(f"document.body.dataset.mode === 'peacetime' && "
                              f"{wall_tiles}.every(t => t.dataset.state !== 'waiting')"), timeout=10_000)
    assert page.evaluate("[...document.querySelectorAll('#wr-cameras .camera-tile')].map(t => t.dataset.state)") == [
        "idle"] * 4
