"""`/field/`: a plain, mobile-friendly page (no Dash) and the three scripts it loads.

The page signs in with ``?token=<worker token>`` (kept in localStorage, as the other pages do), shares the
phone's position over the hub (``{"op":"position",…}``) and rings on ``call.invite`` from ``user.<id>``.
"""

from __future__ import annotations

from pathlib import Path

from django.http import Http404, HttpRequest, HttpResponse
from django.urls import path

HERE = Path(__file__).resolve().parent
ASSETS = HERE.parent / "assets"
SCRIPTS = {"hub.js": ASSETS / "hub.js", "calls.js": ASSETS / "calls.js", "field.js": HERE / "field.js"}


def page(request: HttpRequest) -> HttpResponse:
    """The field page."""
    response = HttpResponse((HERE / "page.html").read_bytes(), content_type="text/html; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    return response


def script(request: HttpRequest, name: str) -> HttpResponse:
    """One of the page's scripts."""
    if name not in SCRIPTS:
        raise Http404(name)
    response = HttpResponse(SCRIPTS[name].read_bytes(), content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    return response


urlpatterns = [path("field/", page, name="field"), path("field/<str:name>", script, name="field-script")]
