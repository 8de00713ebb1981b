"""Live camera tiles in headless Chromium: a simulated GB/T 28181 camera plays on the wall through the relay."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from bench.browser import predicate
from tests.browser.server import ROOT, DemoServer
from tests.realtime.servers import WALL

pytestmark = pytest.mark.browser

LIVE_TIMEOUT_MS = 30_000
# WALL_DOCS_SCREENSHOTS=1: the tests that show the screens at their best write docs/img/*.png at 4K
DOCS = os.environ.get("WALL_DOCS_SCREENSHOTS") == "1"
DOCS_SIZE = (3840, 2160) if DOCS else (1920, 1080)


def docs_screenshot(page, name: str) -> None:
    """Save the page as docs/img/<name> when making the documentation's screenshots."""
    if DOCS:
        page.wait_for_timeout(1_500)
        page.screenshot(path=str(ROOT / "docs" / "img" / name))


@contextmanager
def simulated_device(demo: DemoServer, number: int, lat: float, lon: float, codec: str = "h264",
                     channels: int = 1) -> Iterator[list[dict]]:
    """`wall simulate cameras`: one device with `channels` cameras near (lat, lon), registered with the demo's SIP
    port; their rows (with the simulator's pid)."""
    known = {c["id"] for c in demo.api("GET", "/api/cameras").json()}
    log_path = demo.data_dir / f"camera-{number}.log"
    log = open(log_path, "ab")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [WALL, "simulate", "cameras", "--count", "1", "--first", str(number), "--channels", str(channels),
         "--server-port", demo.env["WALL_GB_SIP_PORT"], "--lat", str(lat), "--lon", str(lon), "--keepalive", "5",
         "--codec", codec],
        env=demo.env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        found: list[dict] = []
        while len(found) < channels and time.monotonic() < deadline:
            assert proc.poll() is None, log_path.read_text()
            found = [c for c in demo.api("GET", "/api/cameras").json() if c["id"] not in known and c["online"]]
            time.sleep(0.3)
        assert len(found) == channels, f"{len(found)} of {channels} simulated cameras registered"
        yield [{**c, "pid": proc.pid} for c in found]
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
        log.close()


@contextmanager
def simulated_camera(demo: DemoServer, number: int, lat: float, lon: float, codec: str = "h264") -> Iterator[dict]:
    """One simulated camera at (lat, lon); its row."""
    with simulated_device(demo, number, lat, lon, codec) as rows:
        yield rows[0]


@pytest.fixture(scope="module")
def camera(demo: DemoServer) -> Iterator[dict]:
    """One simulated camera in the middle of the district."""
    with simulated_camera(demo, 9001, 22.705, 114.345) as row:
        yield row


def tile(camera_id: int, root: str = "#wall-cameras") -> str:
    """JS: the tile showing the camera."""
    return f"document.querySelector('{root} .camera-tile[data-camera-id=\"{camera_id}\"]')"


def tile_state(camera_id: int, state: str, root: str = "#wall-cameras") -> str:
    """JS: the tile showing the camera is in `state` (a function: the pages' CSP forbids eval of expressions)."""
    return predicate(f"{tile(camera_id, root)}?.dataset.state === '{state}'")


def decoded(page, tiles: str, camera_id: int) -> dict:
    """getStats() of the tile playing the camera (framesDecoded and frame size)."""
    stats = page.evaluate(f"{tiles}.stats()")
    return next(s for s in stats if s["camera_id"] == camera_id)


def test_a_wall_tile_plays_an_online_camera_live_and_shows_an_offline_one(page_factory, demo: DemoServer, wall_token,
                                                                          camera):
    page = page_factory(f"{demo.base}/wall/?token={wall_token}", *DOCS_SIZE)
    started = time.monotonic()
    page.wait_for_function(tile_state(camera["id"], "live"), timeout=LIVE_TIMEOUT_MS)
    shown = tile(camera["id"])
    first_frame = page.evaluate(f"{shown}.dataset.firstFrameMs + ' ms (' + {shown}.dataset.timing + ')'")
    print(f"wall tile live {time.monotonic() - started:.2f} s after the page opened; play to first frame {first_frame}")
    first = decoded(page, "window.wallPage.cameraTiles", camera["id"])
    assert first["framesDecoded"] > 0 and first["frameWidth"] == 640, first
    page.wait_for_timeout(1_000)
    assert decoded(page, "window.wallPage.cameraTiles", camera["id"])["framesDecoded"] > first["framesDecoded"]
    assert page.evaluate(f"{shown}.querySelector('video').videoWidth") == 640

    offline = [c for c in demo.api("GET", "/api/cameras").json() if not c["online"]]
    shown = page.evaluate("[...document.querySelectorAll('#wall-cameras .camera-tile')].map("
                          "t => [Number(t.dataset.cameraId), t.dataset.state])")
    offline_tiles = [(cid, state) for cid, state in shown if cid in {c["id"] for c in offline}]
    assert offline_tiles and all(state == "offline" for _, state in offline_tiles), shown
    streams = demo.api("GET", "/api/cameras/streams").json()
    assert any(s["channel_id"] == camera["gb_id"] and s["state"] == "live" for s in streams), streams
    docs_screenshot(page, "wall.png")


def test_the_play_session_ends_when_the_page_hides_the_tiles_and_resumes_after(page_factory, demo: DemoServer,
                                                                                wall_token, camera):
    page = page_factory(f"{demo.base}/wall/?token={wall_token}")
    page.wait_for_function(tile_state(camera["id"], "live"), timeout=LIVE_TIMEOUT_MS)

    def viewers() -> int:
        streams = demo.api("GET", "/api/cameras/streams").json()
        return sum(s.get("viewers", 0) for s in streams if s["channel_id"] == camera["gb_id"])

    assert viewers() >= 1
    before = viewers()
    page.evaluate("window.wallPage.cameraTiles.pause(true)")
    assert page.evaluate(f"{tile(camera['id'])}.dataset.state") == "waiting"
    deadline = time.monotonic() + 10
    while viewers() >= before and time.monotonic() < deadline:
        time.sleep(0.2)
    assert viewers() == before - 1, "the relay session was not closed"
    page.evaluate("window.wallPage.cameraTiles.pause(false)")
    page.wait_for_function(tile_state(camera["id"], "live"), timeout=LIVE_TIMEOUT_MS)
    resumed = page.evaluate(f"{tile(camera['id'])}.dataset.firstFrameMs")
    print(f"resumed on a running stream: play to first frame {resumed} ms")


def test_a_frozen_picture_restarts_the_tile_which_comes_back_live(page_factory, demo: DemoServer, wall_token, camera):
    page = page_factory(f"{demo.base}/wall/?token={wall_token}")
    page.wait_for_function(tile_state(camera["id"], "live"), timeout=LIVE_TIMEOUT_MS)
    os.kill(camera["pid"], signal.SIGSTOP)  # the camera stops sending, but stays registered
    try:
        page.wait_for_function(f"() => {tile(camera['id'])}?.dataset.state === 'error'", timeout=20_000)
        assert "frozen" in page.locator(f"#wall-cameras .camera-tile[data-camera-id=\"{camera['id']}\"]").inner_text()
    finally:
        os.kill(camera["pid"], signal.SIGCONT)
    page.wait_for_function(tile_state(camera["id"], "live"), timeout=LIVE_TIMEOUT_MS)


def test_a_kiosk_limit_of_zero_cameras_plays_none(page_factory, demo: DemoServer, wall_token, camera):
    page = page_factory(f"{demo.base}/wall/?token={wall_token}&cameras=0")
    page.wait_for_function(tile_state(camera["id"], "waiting"), timeout=20_000)
    page.wait_for_timeout(1_500)
    assert page.evaluate(tile_state(camera["id"], "waiting"))


def test_an_h265_camera_tile_says_it_cannot_play_in_a_browser(page_factory, demo: DemoServer, wall_token, camera):
    with simulated_camera(demo, 9003, 22.706, 114.346, codec="h265") as hevc:
        page = page_factory(f"{demo.base}/wall/?token={wall_token}")
        page.wait_for_function(tile_state(hevc["id"], "not_playable"), timeout=LIVE_TIMEOUT_MS)
        page.wait_for_function(tile_state(camera["id"], "live"), timeout=LIVE_TIMEOUT_MS)
        assert "H.265" in page.locator(f"#wall-cameras .camera-tile[data-camera-id=\"{hevc['id']}\"]").inner_text()


def test_kiosk_camera_rotation_pages_through_the_online_cameras(page_factory, demo: DemoServer, wall_token, camera):
    with simulated_device(demo, 9004, 22.707, 114.347, channels=4):
        online = {c["id"] for c in demo.api("GET", "/api/cameras").json() if c["online"]}
        assert len(online) > 4  # more online cameras than tiles
        page = page_factory(f"{demo.base}/wall/?token={wall_token}&camrotate=5")
        tiles = "[...document.querySelectorAll('#wall-cameras .camera-tile')]"
        shown = f"{tiles}.map(t => Number(t.dataset.cameraId))"
        settled = (f"() => {tiles}.length === 4 && "
                   f"{tiles}.every(t => t.dataset.state === 'live' || t.dataset.state === 'not_playable')")
        page.wait_for_function(settled, timeout=LIVE_TIMEOUT_MS)
        first = page.evaluate(shown)
        assert set(first) <= online and len(set(first)) == 4
        page.wait_for_function(f"() => {shown}.join() !== '{','.join(map(str, first))}'", timeout=10_000)
        page.wait_for_function(settled, timeout=LIVE_TIMEOUT_MS)
        second = page.evaluate(shown)
        assert set(second) <= online and set(first) | set(second) == online, (first, second, online)


def test_the_console_plays_the_cameras_nearest_the_selected_case(page_factory, demo: DemoServer, camera):
    categories = demo.api("GET", "/api/categories").json()
    answer = demo.api("POST", "/api/cases", json={
        "title": "摄像头旁的案件", "category": next(c for c in categories if c["parent_id"] is not None)["id"],
        "lat": camera["lat"], "lon": camera["lon"], "source": "hotline", "address": "摄像头下",
    })
    assert answer.status_code == 201, answer.text
    case = answer.json()
    page = page_factory(f"{demo.base}/console/?token={demo.commander}")
    page.locator(f'#console-queue tr[data-case-id="{case["id"]}"]').click(timeout=LIVE_TIMEOUT_MS)
    page.wait_for_function(tile_state(camera["id"], "live", "#case-cameras"), timeout=LIVE_TIMEOUT_MS)
    assert page.locator("#case-cameras .camera-tile").first.get_attribute("data-camera-id") == str(camera["id"])
    stats = page.evaluate("window.consolePage.caseTiles.stats()")
    assert next(s for s in stats if s["camera_id"] == camera["id"])["framesDecoded"] > 0
