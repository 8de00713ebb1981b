"""Plumbing of the no-500 fuzz tests: the API as a WSGI app inside the test transaction, and a tally of inputs."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from django.test.client import ClientHandler

# Inputs sent per operation by the fuzz tests of this run; printed at the end of the run.
INPUTS_TRIED: Counter[str] = Counter()


class TestTransactionWsgi:
    """A WSGI app over Django's test handler, which keeps the test's connection (and transaction) open."""

    __test__ = False  # not a test class

    def __init__(self) -> None:
        self.handler = ClientHandler(enforce_csrf_checks=False)

    def __call__(self, environ: dict[str, Any], start_response) -> Any:
        response = self.handler(environ)
        headers = list(response.items())
        headers += [("Set-Cookie", cookie.output(header="").strip()) for cookie in response.cookies.values()]
        start_response(f"{response.status_code} {response.reason_phrase}", headers)
        return response


def assert_below_500_and_json_errors(status_code: int, content: bytes) -> None:
    """The answer is not a server error, and a 4xx (but a bare 405) is {"error": code, "detail": ...}."""
    assert status_code < 500, content[:500]
    if 400 <= status_code < 500 and status_code != 405:
        assert set(json.loads(content)) == {"error", "detail"}, content[:500]
