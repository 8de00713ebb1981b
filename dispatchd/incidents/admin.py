"""Admin pages of the war room: emergency resources (edited by operators), incidents and their timeline (read)."""

from __future__ import annotations

from django.contrib import admin

from dispatchd.models import Incident, IncidentAction, Resource


@admin.register(Resource)
class ResourceAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "quantity", "lat", "lon")
    list_filter = ("kind",)
    search_fields = ("name", "notes")


class ActionInline(admin.TabularInline):
    model = IncidentAction
    fields = ("at", "actor", "kind", "text", "data")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Incident)
class IncidentAdmin(admin.ModelAdmin):
    list_display = ("id", "title", "level", "state", "commander", "declared_at", "stood_down_at")
    list_filter = ("state", "level")
    search_fields = ("title", "commander")
    readonly_fields = ("state", "declared_by", "declared_at", "stood_down_at", "case")
    inlines = [ActionInline]
