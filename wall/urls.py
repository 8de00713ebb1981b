"""URLs: health, the JSON API, the admin, the field worker's page."""

from __future__ import annotations

from django.contrib import admin
from django.urls import path

from layouts.field.views import urlpatterns as field_urls
from wall.api import api
from wall.health import healthz

urlpatterns = [
    path("healthz", healthz),
    path("api/", api.urls),
    path("admin/", admin.site.urls),
    *field_urls,
]
