"""Fixtures of the browser tests: one demo city server and one headless Chromium for the session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.browser.server import CHROMIUM, CHROMIUM_ARGS, DemoServer


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    """`wall demo --no-simulate` on a seeded demo city of its own."""
    server = DemoServer(tmp_path_factory.mktemp("browserdemo")).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def wall_token(demo: DemoServer) -> str:
    """A token of the read-only `wall` role, as the big screen uses."""
    return demo.token("wall", "hall1")


@pytest.fixture(scope="module")
def browser_args() -> list[str]:
    """Chromium's command-line flags; a test module overrides this fixture to add its own."""
    return CHROMIUM_ARGS


@pytest.fixture(scope="module")
def browser(browser_args: list[str]) -> Iterator:
    """Debian's Chromium, headless, driven by Playwright.

    Module scope: Playwright's sync API keeps an event loop running in the main thread while it is
    open, which would break every asyncio test collected after the browser tests.
    """
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=browser_args)
        yield chromium
        chromium.close()


@pytest.fixture
def page_factory(browser) -> Iterator:
    """Open pages in fresh browser contexts (closed after the test); errors on the page fail the test."""
    contexts, errors = [], []

    def open_page(url: str, width: int = 1920, height: int = 1080):
        context = browser.new_context(viewport={"width": width, "height": height})
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(url)
        return page

    yield open_page
    for context in contexts:
        context.close()
    assert not errors, f"errors on the page: {errors}"
