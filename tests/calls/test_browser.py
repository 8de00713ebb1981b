"""Headless Chromium with a fake camera, on the field page, answers a session with two aiortc peers."""

from __future__ import annotations

import asyncio

import pytest
from asgiref.sync import sync_to_async

from tests.browser.server import CHROMIUM
from tests.calls.asgi_server import AsgiHttpServer
from tests.calls.client import Peer
from tests.calls.conftest import COMMANDER, SECOND
from tests.gb28181.conftest import eventually
from video.calls.config import CallSettings
from video.calls.model import Kind
from video.calls.sessions import Invitee
from wall.auth import create_token

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--use-fake-device-for-media-stream",
        "--use-fake-ui-for-media-stream", "--disable-background-networking", "--no-first-run"]
A, B = (320, 240), (256, 192)


@pytest.fixture
def call_settings(tmp_path) -> CallSettings:
    """Ring and connect times with room for a loaded machine (the 5 s of tests/calls/conftest.py are for peers
    in-process; here Chromium starts, loads the page and gathers ICE)."""
    return CallSettings(ring_timeout=60.0, connect_timeout=30.0, reconnect_grace=5.0, recordings=tmp_path / "rec")


async def test_chromium_answers_on_the_field_page_and_everyone_decodes_everyone(calls, city):
    from django.core.asgi import get_asgi_application
    from playwright.async_api import async_playwright

    worker = city.workers[0]
    token = await sync_to_async(create_token)("worker", worker.code, worker.id)
    server = await AsgiHttpServer(get_asgi_application()).start()
    first, second = Peer(size=A, slots=2), Peer(size=B, slots=2)
    errors: list[str] = []
    try:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            try:
                page = await (await browser.new_context(viewport={"width": 390, "height": 844})).new_page()
                page.on("pageerror", lambda error: errors.append(str(error)))
                await page.goto(f"{server.base}/field/?token={token}")
                # The invitation rings once the page is open, as on a phone: launching Chromium on a loaded
                # machine must not eat into the ring time.
                session, joined = await calls.create(COMMANDER, Kind.SESSION,
                                                     [Invitee(worker_id=worker.id, label=worker.name)],
                                                     await first.offer())
                await first.apply(joined)
                await second.apply(await calls.join(session.id, SECOND, await second.offer()))
                await page.evaluate("(call) => window.fieldCalls.accept(call).then(() => true)", session.id)

                async def decoded() -> list[dict]:
                    return await page.evaluate("() => window.fieldCalls.stats()")

                stats: list[dict] = []
                for _ in range(150):
                    stats = await decoded()
                    if sum(1 for s in stats if s["framesDecoded"] > 10) >= 2:
                        break
                    await asyncio.sleep(0.1)
                assert sum(1 for s in stats if s["framesDecoded"] > 10) >= 2, stats

                def from_browser(peer: Peer) -> int:
                    return sum(len(r.counters) for r in peer.received.values() if r.sizes - {A, B})

                await eventually(lambda: from_browser(first) > 10 and from_browser(second) > 10, timeout=15)
                browser_seat = session.seat_of(f"worker:{worker.id}")
                assert browser_seat.seat == "connected"
                print("browser sends", browser_seat.sources()["video"].codec, "transcoded:", session.transcoded(),
                      "browser receives", {s["codec"] for s in stats})
            finally:
                await browser.close()
    finally:
        await first.close()
        await second.close()
        await server.close()
    assert not errors, errors
