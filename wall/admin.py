"""Admin page for API tokens: list and revoke (tokens are created with `wall token create`)."""

from __future__ import annotations

from django.contrib import admin
from django.utils import timezone

from wall.models import ApiToken


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("name", "role", "prefix", "worker", "created_at", "last_used_at", "revoked_at")
    list_filter = ("role",)
    readonly_fields = ("name", "role", "prefix", "digest", "worker", "created_at", "last_used_at", "revoked_at")
    actions = ["revoke"]

    def has_add_permission(self, request) -> bool:
        return False

    @admin.action(description="Revoke selected tokens")
    def revoke(self, request, queryset) -> None:
        queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
