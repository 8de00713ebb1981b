"""Video calls from the commander console to the field page, both in headless Chromium with a fake camera/mic.

A demo server of its own, with a short ring timeout; the console calls through the "呼叫" buttons of the
dispatch panel, the field worker answers on /field/, and both sides are checked on screen and in getStats.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest

from tests.browser.server import CHROMIUM_ARGS, ROOT, DemoServer
from tests.browser.test_pages import report
from tests.realtime.servers import WALL

pytestmark = pytest.mark.browser
RING_S = 15  # short for the missed-call test, long enough for a loaded machine to answer in time (offer, ICE)
MEDIA_ARGS = ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
              "--autoplay-policy=no-user-gesture-required"]
WAIT = 30_000  # ms: media set-up on a loaded 2-core machine
# The pages' Content-Security-Policy forbids eval, hence page.wait_for_function: conditions are polled instead.
DECODING = """async (n) => (await WINDOW.stats()).filter((s) => s.framesDecoded > 0).length >= n"""


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    """A demo city whose calls ring for RING_S seconds only."""
    server = DemoServer(tmp_path_factory.mktemp("callsdemo"), WALL_CALLS_RING_S=str(RING_S)).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def case(demo: DemoServer) -> dict:
    """A case dispatched to the second of three on-duty workers standing right beside it (the nearest ones),
    who accepts the order."""
    c = report(demo, "视频呼叫测试")
    workers = demo.api("GET", "/api/workers").json()[:3]
    for worker in workers:
        assert demo.api("POST", f"/api/workers/{worker['id']}/duty", json={"duty": "on_duty"}).status_code == 200
    report_positions(demo, c, workers)
    for action, body in (("accept", {}), ("register", {}), ("dispatch", {"worker": workers[1]["id"]})):
        answer = demo.api("POST", f"/api/cases/{c['id']}/actions/{action}", json=body)
        assert answer.status_code == 200, answer.text
    # The dispatched worker takes the order: left unanswered for WALL_DISPATCH_ACCEPT_TIMEOUT_S (a loaded machine
    # gets there mid-module), it would fall back to the nearest other worker, who would then be busy and gone
    # from the nearest list the tests call from.
    (order,) = demo.api("GET", f"/api/workers/{workers[1]['id']}/orders", params={"state": "offered"}).json()
    answer = demo.api("POST", f"/api/workers/{workers[1]['id']}/orders/{order['id']}/accept", json={})
    assert answer.status_code == 200, answer.text
    return {**c, "workers": workers}


def report_positions(demo: DemoServer, c: dict, workers: list[dict]) -> None:
    """Fresh fixes of the workers beside the case, as their phones would keep sending."""
    now = datetime.now(UTC).isoformat()
    items = [{"worker_id": w["id"], "lat": c["lat"] + 0.0001 * (i + 1), "lon": c["lon"], "at": now}
             for i, w in enumerate(workers)]
    assert demo.api("POST", "/api/positions", json={"items": items}).status_code == 200


@pytest.fixture(autouse=True)
def phones_keep_reporting(demo: DemoServer, case: dict) -> None:
    """Fixes before each test: this module runs longer than WALL_FIELD_OFFLINE_AFTER_S on a loaded machine,
    and a worker silent that long is offline, so no longer among the nearest."""
    report_positions(demo, case, case["workers"])


@pytest.fixture(scope="module")
def browser_args() -> list[str]:
    """Chromium with a fake camera and microphone (granted without asking)."""
    return CHROMIUM_ARGS + MEDIA_ARGS


@pytest.fixture
def open_page(page_factory) -> Callable:
    """Pages in fresh contexts (conftest's page_factory), each once its hub connection is live."""

    def opener(url: str, width: int = 1920, height: int = 1080):
        page = page_factory(url, width, height)
        page.locator('#hub-status[data-status="live"]').wait_for(state="attached", timeout=WAIT)
        return page

    return opener


def worker_token(demo: DemoServer, worker: dict) -> str:
    """A worker token for one demo worker."""
    out = subprocess.run([WALL, "token", "create", "--role", "worker", "--name", worker["code"], "--worker",
                          worker["code"]], env=demo.env, cwd=ROOT, capture_output=True, text=True, check=True)
    return out.stdout.strip().splitlines()[-1]


def field_page(open_page, demo: DemoServer, worker: dict):
    """The worker's phone page, live and subscribed to its invitations."""
    page = open_page(f"{demo.base}/field/?token={worker_token(demo, worker)}", 390, 844)
    page.locator('body[data-calls="ready"]').wait_for(state="attached", timeout=WAIT)
    return page


def console_page(open_page, demo: DemoServer, case: dict):
    """The console with the case selected and its nearest workers listed."""
    page = open_page(f"{demo.base}/console/?token={demo.commander}")
    page.locator(f'#console-queue tr[data-case-id="{case["id"]}"]').click(timeout=WAIT)
    page.locator(f'#case-detail[data-case-id="{case["id"]}"]').wait_for(timeout=WAIT)
    page.locator("#find-nearest").click()
    return page


def call(console, worker: dict) -> None:
    """Click "呼叫" on the worker's row of the nearest list."""
    console.locator(f'#nearest-list li[data-worker-id="{worker["id"]}"] .call-worker').click(timeout=WAIT)


def call_assigned(console, worker: dict) -> None:
    """Click "呼叫" beside the case's assigned worker (处置人员) in the case detail."""
    console.locator(f'#case-detail .facts .call-worker[data-worker-id="{worker["id"]}"]').click(timeout=WAIT)


def state_of(console, state: str) -> None:
    """Wait until the console's call panel shows `state`."""
    console.locator(f'#call-state[data-state="{state}"]').wait_for(timeout=WAIT)


def until(page, script: str, arg: object = None, timeout: float = WAIT / 1000) -> None:
    """Poll a (possibly async) function on the page until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(script, arg):
        assert time.monotonic() < deadline, f"not within {timeout} s: {script}"
        time.sleep(0.2)


def decoding(page, client: str, streams: int) -> None:
    """Wait until the page's WallCalls client decodes video from `streams` others."""
    until(page, DECODING.replace("WINDOW", client), streams)


def test_console_calls_a_field_worker_who_answers_then_mute_shows_across_and_hang_up_ends_both(
    open_page, demo: DemoServer, case: dict,
) -> None:
    worker = case["workers"][0]
    field = field_page(open_page, demo, worker)
    console = console_page(open_page, demo, case)
    call(console, worker)
    state_of(console, "ringing")
    field.locator("#incoming").wait_for(state="visible", timeout=WAIT)
    assert "来电" in field.locator("#caller").inner_text()
    field.locator("#accept").click()

    state_of(console, "connected")
    field.locator('#incall[data-state="connected"]').wait_for(timeout=WAIT)
    decoding(console, "window.consolePage.calls", 1)
    decoding(field, "window.fieldCalls", 1)
    assert console.locator('#call-participants li[data-kind="worker"][data-state="connected"]').count() == 1

    field.locator("#mute-audio").click()  # the worker mutes: the console shows it on the worker's video
    console.locator('#call-remote figure[data-muted-audio="true"]').wait_for(timeout=WAIT)
    field.locator('#mute-audio[aria-pressed="true"]').wait_for(timeout=WAIT)
    console.locator("#call-mute-video").click()  # the commander turns the camera off: the field sees it
    field.locator('#remote figure[data-muted-video="true"]').wait_for(timeout=WAIT)
    assert "无画面" in field.locator("#remote figure[data-muted-video='true'] figcaption").inner_text()

    console.locator("#call-hangup").click()
    state_of(console, "ended")
    field.locator('#incall[data-state="ended"]').wait_for(state="attached", timeout=WAIT)
    assert not field.locator("#incall").is_visible()
    field.locator("#message", has_text="通话结束").wait_for(timeout=WAIT)
    assert console.evaluate("window.consolePage.calls.callId") is None
    assert field.evaluate("window.fieldCalls.callId") is None


def test_a_declined_call_shows_declined_in_the_console(open_page, demo: DemoServer, case: dict) -> None:
    worker = case["workers"][1]
    field = field_page(open_page, demo, worker)
    console = console_page(open_page, demo, case)
    call_assigned(console, worker)
    field.locator("#decline").click(timeout=WAIT)
    state_of(console, "declined")
    assert "拒接" in console.locator("#call-state").inner_text()
    field.locator("#incoming").wait_for(state="hidden", timeout=WAIT)


def test_an_unanswered_call_is_missed_after_the_ring_timeout(open_page, demo: DemoServer, case: dict) -> None:
    worker = case["workers"][1]
    field = field_page(open_page, demo, worker)
    console = console_page(open_page, demo, case)
    call_assigned(console, worker)
    field.locator("#incoming").wait_for(state="visible", timeout=WAIT)
    state_of(console, "missed")  # after RING_S without an answer
    assert "无人接听" in console.locator("#call-state").inner_text()
    field.locator("#incoming").wait_for(state="hidden", timeout=WAIT)
    field.locator("#message", has_text="未接").wait_for(timeout=WAIT)


def test_calling_a_worker_who_is_in_a_call_shows_busy(open_page, demo: DemoServer, case: dict) -> None:
    worker = case["workers"][2]
    field = field_page(open_page, demo, worker)
    first = console_page(open_page, demo, case)
    call(first, worker)
    field.locator("#accept").click(timeout=WAIT)
    state_of(first, "connected")  # answered: the ring timeout no longer applies
    second = console_page(open_page, demo, case)
    call(second, worker)
    state_of(second, "busy")
    assert second.evaluate("window.consolePage.calls.localStream") is None  # the camera is released again
    assert field.locator("#incoming").is_hidden()  # the worker in the call is not disturbed
    first.locator("#call-hangup").click()
    state_of(first, "ended")
    field.locator('#incall[data-state="ended"]').wait_for(state="attached", timeout=WAIT)


def test_adding_a_second_worker_turns_the_call_into_a_three_party_session(
    open_page, demo: DemoServer, case: dict,
) -> None:
    worker, other = case["workers"][0], case["workers"][2]
    field = field_page(open_page, demo, worker)
    second = field_page(open_page, demo, other)
    console = console_page(open_page, demo, case)
    call(console, worker)
    field.locator("#accept").click(timeout=WAIT)
    state_of(console, "connected")

    console.locator("#call-add-toggle").click()
    console.locator("#call-add-who optgroup[label^='摄像头'] option").first.wait_for(state="attached", timeout=WAIT)
    console.locator("#call-add-who").select_option(f"worker:{other['id']}")
    console.locator("#call-add-go").click()
    console.locator('#call-participants li[data-kind="worker"][data-state="invited"]').wait_for(timeout=WAIT)
    second.locator("#accept").click(timeout=WAIT)

    console.locator('#call-participants li[data-state="connected"]').nth(2).wait_for(timeout=WAIT)
    assert console.locator("#call-title").inner_text() == "会商"
    decoding(console, "window.consolePage.calls", 2)
    decoding(second, "window.fieldCalls", 2)
    decoding(field, "window.fieldCalls", 2)
    snapshot = console.evaluate("window.consolePage.calls.snapshot")
    assert snapshot["kind"] == "session"
    assert console.locator("#call-participants li[data-transcoded]").count() == len(
        {t["from"] for t in snapshot["transcoded"]})

    console.locator("#call-hangup").click()  # 结束会商: ends it for everyone
    state_of(console, "ended")
    for page in (field, second):
        page.locator("#incall").wait_for(state="hidden", timeout=WAIT)


@pytest.fixture
def camera_near(demo: DemoServer, case: dict) -> Iterator[dict]:
    """A simulated GB28181 camera standing at the case, registered with the demo's SIP server and online."""
    proc = subprocess.Popen(
        [WALL, "simulate", "cameras", "--count", "1", "--first", "9001", "--size", "320x240", "--fps", "15",
         "--lat", str(case["lat"]), "--lon", str(case["lon"]), "--server-port", demo.env["WALL_GB_SIP_PORT"]],
        env=demo.env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + WAIT / 1000
        while not (found := [c for c in demo.api("GET", "/api/cameras").json()
                             if c["device_id"].endswith("1320009001") and c["online"]]):
            assert proc.poll() is None and time.monotonic() < deadline, "the simulated camera did not come online"
            time.sleep(0.3)
        yield found[0]
    finally:
        proc.terminate()
        proc.wait(10)


def test_a_camera_near_the_case_joins_the_call_and_can_be_taken_out(
    open_page, demo: DemoServer, case: dict, camera_near: dict,
) -> None:
    worker = case["workers"][0]
    field = field_page(open_page, demo, worker)
    console = console_page(open_page, demo, case)
    call(console, worker)
    field.locator("#accept").click(timeout=WAIT)
    state_of(console, "connected")

    console.locator("#call-add-toggle").click()
    nearest_camera = console.locator("#call-add-who optgroup[label^='摄像头'] option").first
    nearest_camera.wait_for(state="attached", timeout=WAIT)
    assert nearest_camera.get_attribute("value") == f"camera:{camera_near['id']}"  # the one at the case comes first
    console.locator("#call-add-who").select_option(f"camera:{camera_near['id']}")
    console.locator("#call-add-go").click()

    camera = console.locator('#call-participants li[data-kind="camera"][data-state="connected"]')
    camera.wait_for(timeout=WAIT)
    decoding(console, "window.consolePage.calls", 2)  # the worker and the camera
    decoding(field, "window.fieldCalls", 2)  # the commander and the camera
    assert console.evaluate("window.consolePage.calls.snapshot.kind") == "session"

    camera.locator("button").click()  # 移除
    console.locator('#call-participants li[data-kind="camera"][data-state="left"]').wait_for(timeout=WAIT)
    state_of(console, "connected")
    console.locator("#call-hangup").click()
    state_of(console, "ended")
    field.locator('#incall[data-state="ended"]').wait_for(state="attached", timeout=WAIT)


def test_a_department_desk_answers_its_invitation_and_joins_the_session(
    open_page, demo: DemoServer, case: dict,
) -> None:
    department = demo.api("GET", "/api/departments").json()[0]
    worker = case["workers"][0]
    field = field_page(open_page, demo, worker)
    desk = open_page(f"{demo.base}/console/?token={demo.commander}&desk={department['id']}")
    desk.locator(f'#desk-department option[value="{department["id"]}"]').wait_for(state="attached", timeout=WAIT)
    until(desk, "() => document.getElementById('desk-department').value", None)
    console = console_page(open_page, demo, case)
    call(console, worker)
    field.locator("#accept").click(timeout=WAIT)
    state_of(console, "connected")

    console.locator("#call-add-toggle").click()
    console.locator("#call-add-who optgroup[label='部门'] option").first.wait_for(state="attached", timeout=WAIT)
    console.locator("#call-add-who").select_option(f"department:{department['id']}")
    console.locator("#call-add-go").click()
    desk.locator("#call-incoming").wait_for(state="visible", timeout=WAIT)
    assert department["name"] in desk.locator("#call-incoming-text").inner_text()
    desk.locator("#call-answer").click()

    state_of(desk, "connected")
    console.locator('#call-participants li[data-kind="department"][data-state="connected"]').wait_for(timeout=WAIT)
    decoding(desk, "window.consolePage.calls", 2)
    decoding(field, "window.fieldCalls", 2)
    console.locator("#call-hangup").click()  # 结束会商
    state_of(desk, "ended")
    field.locator("#incall").wait_for(state="hidden", timeout=WAIT)
