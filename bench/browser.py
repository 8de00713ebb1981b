"""Headless Chromium for the benches and the browser tests: where it is, how it starts, how to wait on a page."""

from __future__ import annotations

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--enable-precise-memory-info",
]


def predicate(expression: str) -> str:
    """A JS expression as a function for `wait_for_function`: the pages' CSP forbids evaluating a string."""
    return f"() => ({expression})"


LIVE = predicate("document.getElementById('hub-status')?.dataset.status === 'live'")


def on_wall(case_id: int) -> str:
    """JS predicate: the case is on the wall page's map and in its feed."""
    return predicate(f"window.wallPage.layers.cases.has({case_id}) && "
                     f"!!document.querySelector('#wall-feed li[data-case-id=\"{case_id}\"]')")
