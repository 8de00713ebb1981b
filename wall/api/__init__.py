"""The JSON API under /api/ with its OpenAPI schema at /api/openapi.json."""

from __future__ import annotations

from wall.api import cases, field, reference  # noqa: F401,E402 - registers the routers
from wall.api.base import api

__all__ = ["api"]
