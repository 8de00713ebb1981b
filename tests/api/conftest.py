"""Fixtures of the API tests: clients that call the API with a bearer token of a given role."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from dispatchd.models import Worker
from tests.city import SmallCity
from tests.dispatchd.helpers import clock, events  # noqa: F401 - fixtures
from wall.auth import create_token


class ApiClient:
    """The Django test client with a bearer token and JSON bodies."""

    def __init__(self, token: str | None) -> None:
        headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
        self.client = Client(**headers)

    def get(self, path: str, query: dict[str, Any] | None = None):
        """GET /api/<path> with a query string."""
        return self.client.get(f"/api/{path}", query or {})

    def post(self, path: str, body: Any = None, **extra):
        """POST /api/<path> with a JSON body."""
        return self.client.post(f"/api/{path}", json.dumps(body or {}), content_type="application/json", **extra)

    def act(self, case_id: int, action: str, **params):
        """POST an action of the case loop."""
        return self.post(f"cases/{case_id}/actions/{action}", params)


@pytest.fixture
def api_as(city: SmallCity) -> Callable[..., ApiClient]:
    """A factory of API clients: api_as("wall"), api_as("worker", city.workers[1])."""

    def make(role: str, worker: Worker | None = None) -> ApiClient:
        return ApiClient(create_token(role, f"test-{role}", worker.id if worker else None))

    return make


@pytest.fixture
def commander(api_as) -> ApiClient:
    """An API client of the duty commander."""
    return api_as("commander")


def pytest_terminal_summary(terminalreporter) -> None:
    """Report how many inputs the no-500 fuzz tests tried."""
    from tests.api.fuzz import INPUTS_TRIED

    if INPUTS_TRIED:
        terminalreporter.write_line(
            f"no-500 fuzz: {sum(INPUTS_TRIED.values())} inputs tried over {len(INPUTS_TRIED)} operation variants"
        )
        for operation, count in sorted(INPUTS_TRIED.items()):
            terminalreporter.write_line(f"  {count:6d}  {operation}")
