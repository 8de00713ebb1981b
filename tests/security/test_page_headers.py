"""The pages' Content-Security-Policy and security headers, and every page rendering under them in Chromium."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.browser.server import DemoServer

pytestmark = pytest.mark.browser

TILES = "https://{s}.tiles.example.test/{z}/{x}/{y}.png"
LIVE = "() => document.getElementById('hub-status')?.dataset.status === 'live'"
# Every CSP violation, as the page reports it (the listener is installed before any page script runs).
LISTEN = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__csp.push(e.violatedDirective + ' ' + e.blockedURI + ' ' + (e.sourceFile || '') + ':' + e.lineNumber);
});
"""


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    """`wall demo --no-simulate` with a map tile server configured on another origin."""
    server = DemoServer(tmp_path_factory.mktemp("cspdemo"), WALL_TILE_URL=TILES).start()
    yield server
    server.stop()


@pytest.mark.parametrize("path", ["/wall/", "/console/", "/playback/", "/warroom/", "/field/"])
def test_the_page_carries_a_strict_policy_and_the_security_headers(demo: DemoServer, path: str):
    response = httpx.get(f"{demo.base}{path}", timeout=30)
    assert response.status_code == 200
    policy = dict(
        (part.split(" ", 1) + [""])[:2] for part in response.headers["content-security-policy"].split("; ")
    )
    assert policy["default-src"] == "'self'"
    assert policy["script-src"].startswith("'self'") and "unsafe" not in policy["script-src"]
    assert policy["object-src"] == "'none'" and policy["frame-ancestors"] == "'none'"
    assert policy["img-src"] == "'self' data: blob: https://*.tiles.example.test"
    assert policy["connect-src"] == f"'self' ws://127.0.0.1:{demo.port} wss://127.0.0.1:{demo.port}"
    assert "http:" not in policy["default-src"] and "*" not in policy["script-src"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "same-origin"


def test_the_api_and_admin_keep_their_own_headers(demo: DemoServer):
    health = httpx.get(f"{demo.base}/healthz", timeout=30)
    assert "content-security-policy" not in health.headers
    assert health.headers["x-content-type-options"] == "nosniff" and health.headers["x-frame-options"] == "DENY"


def _ready(page, path: str) -> None:
    """Wait until the page has done its start-up work (connected, loaded its data)."""
    if path in ("/wall/", "/console/", "/field/"):
        page.wait_for_function(LIVE, timeout=30_000)
    if path == "/wall/":
        page.wait_for_function("() => document.body.hasAttribute('data-loaded-cases')", timeout=30_000)
        page.wait_for_function("() => document.querySelectorAll('[data-kpi]').length === 6", timeout=30_000)
    elif path == "/console/":
        page.wait_for_function("() => document.querySelectorAll('#console-queue tr').length > 5", timeout=30_000)
    elif path == "/playback/":
        page.locator("#play-worker").wait_for(timeout=30_000)
    elif path == "/warroom/":
        page.wait_for_function("() => document.querySelectorAll('#react-entry-point *').length > 10",
                               timeout=30_000)
    page.wait_for_load_state("networkidle", timeout=30_000)
    page.wait_for_timeout(1_000)  # let late work (timers, the first statistics callback) run under the policy


@pytest.mark.parametrize("path", ["/wall/", "/console/", "/playback/", "/warroom/", "/field/"])
def test_the_page_renders_without_a_single_policy_violation(browser, demo: DemoServer, path: str):
    token = demo.token("wall", "csp-wall") if path == "/wall/" else demo.commander
    context = browser.new_context(viewport={"width": 1920, "height": 1080})
    try:
        context.add_init_script(LISTEN)
        page = context.new_page()
        console, errors = [], []
        page.on("console", lambda message: console.append(message.text))
        page.on("pageerror", lambda error: errors.append(str(error)))
        response = page.goto(f"{demo.base}{path}?token={token}")
        assert "content-security-policy" in response.headers
        _ready(page, path)
        violations = page.evaluate("() => window.__csp")
        blocked = [text for text in console if "Content Security Policy" in text]
        assert (violations, blocked, errors) == ([], [], [])
    finally:
        context.close()


def test_a_script_injected_into_a_page_is_blocked(browser, demo: DemoServer):
    context = browser.new_context()
    try:
        context.add_init_script(LISTEN)
        page = context.new_page()
        page.goto(f"{demo.base}/console/?token={demo.commander}")
        page.wait_for_function(LIVE, timeout=30_000)
        page.evaluate("""() => {
            const s = document.createElement('script');
            s.textContent = 'window.__ran = true';
            document.body.appendChild(s);
            const img = document.createElement('img');
            img.src = 'https://evil.example.test/x.png';
            document.body.appendChild(img);
        }""")
        page.wait_for_function("() => window.__csp.length >= 2", timeout=5_000)
        assert page.evaluate("() => window.__ran") is None
        directives = sorted(v.split(" ")[0] for v in page.evaluate("() => window.__csp"))
        assert directives == ["img-src", "script-src-elem"]
    finally:
        context.close()
