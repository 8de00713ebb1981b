"""The last routes of the API: any other address under /api/ is a JSON 404, like every other error."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router

from dispatchd.errors import NotFound

router = Router(auth=None)
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


@router.api_operation(METHODS, "/", include_in_schema=False)
def root(request: HttpRequest):
    """Refuse /api/ itself: it serves nothing."""
    raise NotFound("no such address: /api/ (the schema is at /api/openapi.json)")


@router.api_operation(METHODS, "/{path:rest}", include_in_schema=False)
def unknown(request: HttpRequest, rest: str):
    """Refuse an address that no operation serves."""
    raise NotFound(f"no such address: /api/{rest[:200]}")
