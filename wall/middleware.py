"""HTTP middleware: body size limit, audit source address, security headers of the pages."""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import urlsplit

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


class AuditContextMiddleware:
    """Attribute the audit entries written while serving a request to the client's address."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from dispatchd.audit import source_ip

        with source_ip(request.META.get("REMOTE_ADDR")):
            return self.get_response(request)


_HOST_RE = re.compile(r"^[A-Za-z0-9.\-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$")
_REPLACED = {b"content-security-policy", b"x-content-type-options", b"referrer-policy", b"x-frame-options"}


def tile_origin(url: str) -> str | None:
    """The CSP source of a map tile URL template: "https://{s}.tiles.example/{z}/…" → "https://*.tiles.example"."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    host = re.sub(r"^\{[a-z]+\}\.", "*.", parts.netloc)
    if "{" in host or "}" in host or any(c in host for c in " ;,'\""):
        return None
    return f"{parts.scheme}://{host}"


def page_policy(host: str | None, script_hashes: list[str]) -> str:
    """The Content-Security-Policy of the pages: only our own origin, plus the configured tile server."""
    img = ["'self'", "data:", "blob:"]
    if settings.WALL_TILE_URL and (origin := tile_origin(settings.WALL_TILE_URL)):
        img.append(origin)
    img += settings.WALL_CSP_EXTRA_IMG_SRC.split()
    connect = ["'self'"]
    if host:
        connect += [f"ws://{host}", f"wss://{host}"]
    connect += settings.WALL_CSP_EXTRA_CONNECT_SRC.split()
    directives = {
        "default-src": ["'self'"],
        "script-src": ["'self'", *script_hashes],
        # Dash, Plotly and Leaflet write <style> elements and style attributes.
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": img,
        "media-src": ["'self'", "blob:"],
        "font-src": ["'self'", "data:"],
        "connect-src": connect,
        "worker-src": ["'self'", "blob:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
    return "; ".join(f"{name} {' '.join(sources)}" for name, sources in directives.items())


class PageSecurityHeaders:
    """ASGI: a strict Content-Security-Policy, nosniff, no referrer off-site and no framing on the pages.

    `script_hashes` returns the hashes of the pages' inline scripts (Dash's renderer start and clientside
    callbacks); it is called once, on the first request, when every app has defined its callbacks.
    """

    def __init__(self, app, prefixes: tuple[str, ...], script_hashes: Callable[[], list[str]]) -> None:
        self.app = app
        self.prefixes = prefixes
        self.script_hashes = script_hashes
        self._hashes: list[str] | None = None

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or not scope.get("path", "").startswith(self.prefixes):
            await self.app(scope, receive, send)
            return
        if self._hashes is None:
            self._hashes = list(self.script_hashes())
        host = next((v.decode("latin-1") for k, v in scope.get("headers", []) if k == b"host"), None)
        policy = page_policy(host if host and _HOST_RE.match(host) else None, self._hashes)
        ours = [
            (b"content-security-policy", policy.encode()),
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"same-origin"),
            (b"x-frame-options", b"DENY"),
        ]

        async def send_with_headers(message) -> None:
            if message["type"] == "http.response.start":
                kept = [(k, v) for k, v in message.get("headers", []) if k.lower() not in _REPLACED]
                message = {**message, "headers": kept + ours}
            await send(message)

        await self.app(scope, receive, send_with_headers)
