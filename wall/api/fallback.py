"""The last routes of the API: any other address under /api/ is a JSON 404, like every other error."""

from __future__ import annotations

from django.http import HttpRequest
from django.urls import register_converter
from ninja import Router

from dispatchd.errors import NotFound


class AnyRest:
    """The rest of an address, newlines included.

    Django's own `path` converter (``.+``) stops at a newline, so an address such as ``/api/a%2F%0A``
    matched no route at all and got Django's HTML 404 page instead of this JSON one.
    """

    regex = r"[\s\S]+"

    def to_python(self, value: str) -> str:
        """The matched text as it is."""
        return value

    def to_url(self, value: str) -> str:
        """The text as it is."""
        return value


register_converter(AnyRest, "anyrest")

router = Router(auth=None)
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


@router.api_operation(METHODS, "/", include_in_schema=False)
def root(request: HttpRequest):
    """Refuse /api/ itself: it serves nothing."""
    raise NotFound("no such address: /api/ (the schema is at /api/openapi.json)")


@router.api_operation(METHODS, "/{anyrest:rest}", include_in_schema=False)
def unknown(request: HttpRequest, rest: str):
    """Refuse an address that no operation serves."""
    raise NotFound(f"no such address: /api/{rest[:200]}")
