"""The browser hub client (layouts/assets/hub.js) in headless Chromium against a real `wall serve`."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.browser import CHROMIUM, CHROMIUM_ARGS
from realtime.redis_streams import RedisStreams
from tests.realtime.servers import WallServer

pytestmark = pytest.mark.browser

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
            page.wait_for_function(f"() => {STATUS} === 'live'", timeout=20_000)
            page.evaluate("t => window.wallHub.subscribe(t)", topic)
            page.wait_for_function(f"t => ({REPLIES})(t).length === 1", arg=topic)
            _publish(producer, topic, range(1, 3))
            page.wait_for_function(f"t => ({OFFSETS})(t).length === 2", arg=topic, timeout=10_000)

            restartable.kill()
            page.wait_for_function(f"() => {STATUS} !== 'live'", timeout=10_000)
            _publish(producer, topic, range(3, 6))  # while the page is offline
            restartable.start()
            page.wait_for_function(f"() => {STATUS} === 'live'", timeout=30_000)
            _publish(producer, topic, range(6, 8))
            page.wait_for_function(f"t => ({OFFSETS})(t).length >= 7", arg=topic, timeout=20_000)

            assert page.evaluate(OFFSETS, topic) == [1, 2, 3, 4, 5, 6, 7]
            assert page.evaluate(NUMBERS, topic) == [1, 2, 3, 4, 5, 6, 7]
            replies = page.evaluate(REPLIES, topic)
            assert [reply["recovered"] for reply in replies] == [False, True]
        finally:
            browser.close()


def test_the_page_decodes_position_batches_part_by_part_onto_the_map(
    server: WallServer, tokens: dict, producer: RedisStreams
) -> None:
    if not Path(CHROMIUM).exists():
        pytest.skip("needs Debian's chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    first, count = 900_000_000, 1100  # ids of no real worker; 1100 items make three parts
    now = time.time()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.add_init_script(COLLECT)
            page.goto(f"http://127.0.0.1:{server.port}/wall/?token={tokens['wall']}")
            page.wait_for_function(f"() => {STATUS} === 'live'", timeout=20_000)
            page.wait_for_function("() => window.wallPage && window.wallPage.layers && window.wallPage.layers.workers")
            producer.append_many("positions", [
                {"type": "position", "data": {"worker_id": first + i, "lat": 22.7 + i / 1e5, "lon": 114.3,
                                              "at": now, "state": "busy"}}
                for i in range(count)
            ])
            layer = "window.wallPage.layers.workers"
            page.wait_for_function(f"() => {layer}.has({first}) && {layer}.has({first + count - 1})", timeout=10_000)
            marker = page.evaluate(f"() => {{ const p = window.wallPage.layers.workers.get({first + 5}); "
                                   "return [p.lat, p.lon, p.state, p.t]; }")
            assert marker == [22.70005, 114.3, "busy", round(now, 1)]
            parts = page.evaluate(
                f"() => window.hubMessages.filter(m => m.op === 'batch' && m.items.some(i => i.worker_id >= {first}))"
                ".map(m => [m.part, m.parts, m.items.length])"
            )
            assert max(of for _, of, _ in parts) >= 3 and all(n <= 500 for _, _, n in parts)
        finally:
            browser.close()
