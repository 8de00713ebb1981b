"""HTTP middleware: body size limit."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse


class BodySizeLimitMiddleware:
    """Refuse bodies larger than WALL_MAX_BODY_BYTES with 413 before anything reads them."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        length = request.META.get("CONTENT_LENGTH") or "0"
        try:
            size = int(length)
        except ValueError:
            size = -1
        if size < 0:
            return JsonResponse({"error": "bad_request", "detail": "invalid Content-Length"}, status=400)
        if size > settings.WALL_MAX_BODY_BYTES:
            return JsonResponse(
                {"error": "too_large", "detail": f"body exceeds {settings.WALL_MAX_BODY_BYTES} bytes"},
                status=413,
            )
        return self.get_response(request)
