"""The JSON API under /api/ with its OpenAPI schema at /api/openapi.json."""

from __future__ import annotations

from wall.api import alarms, audit, calls, cameras, cases, fallback, field, incidents, reference, workers  # noqa: F401,E402 - registers the routers
from wall.api.base import api

# The catch-all goes last, after every router above has registered its operations.
api.add_router("/", fallback.router)

__all__ = ["api"]
