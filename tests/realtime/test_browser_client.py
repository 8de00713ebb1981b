"""The browser hub client (layouts/assets/hub.js) in headless Chromium against a real `wall serve`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from realtime.redis_streams import RedisStreams
from tests.realtime.servers import WallServer

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Collects what the page's shared client (window.wallHub) hands to the page.
COLLECT = "window.hubMessages = []; window.addEventListener('wallhub:message', e => window.hubMessages.push(e.detail));"
STATUS = "document.getElementById('hub-status') && document.getElementById('hub-status').dataset.status"
OFFSETS = "t => window.hubMessages.filter(m => m.op === 'event' && m.topic === t).map(m => m.offset)"
NUMBERS = "t => window.hubMessages.filter(m => m.topic === t && m.data).map(m => m.data.n)"
REPLIES = "t => window.hubMessages.filter(m => m.op === 'subscribed' && m.topic === t)"


@pytest.fixture
def restartable(hub_data: tuple[Path, dict], hub_redis_url: str) -> Iterator[WallServer]:
    """A `wall serve` of this test alone, so it may be killed and restarted."""
    server = WallServer(hub_data[0], hub_redis_url).start()
    yield server
    server.kill()  # a gentle stop waits for Daphne's application close timeout


def _publish(producer: RedisStreams, topic: str, numbers: range) -> None:
    producer.append_many(topic, [{"type": "incident.note", "data": {"n": n}} for n in numbers])


def test_the_page_goes_live_receives_events_and_resumes_without_a_gap_after_a_server_restart(
    restartable: WallServer, tokens: dict, producer: RedisStreams, topic: str
) -> None:
    if not Path(CHROMIUM).exists():
        pytest.skip("needs Debian's chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.add_init_script(COLLECT)
            page.goto(f"http://127.0.0.1:{restartable.port}/wall/?token={tokens['wall']}")
            page.wait_for_function(f"{STATUS} === 'live'", timeout=20_000)
            page.evaluate("t => window.wallHub.subscribe(t)", topic)
            page.wait_for_function(f"t => ({REPLIES})(t).length === 1", arg=topic)
            _publish(producer, topic, range(1, 3))
            page.wait_for_function(f"t => ({OFFSETS})(t).length === 2", arg=topic, timeout=10_000)

            restartable.kill()
            page.wait_for_function(f"{STATUS} !== 'live'", timeout=10_000)
            _publish(producer, topic, range(3, 6))  # while the page is offline
            restartable.start()
            page.wait_for_function(f"{STATUS} === 'live'", timeout=30_000)
            _publish(producer, topic, range(6, 8))
            page.wait_for_function(f"t => ({OFFSETS})(t).length >= 7", arg=topic, timeout=20_000)

            assert page.evaluate(OFFSETS, topic) == [1, 2, 3, 4, 5, 6, 7]
            assert page.evaluate(NUMBERS, topic) == [1, 2, 3, 4, 5, 6, 7]
            replies = page.evaluate(REPLIES, topic)
            assert [reply["recovered"] for reply in replies] == [False, True]
        finally:
            browser.close()
