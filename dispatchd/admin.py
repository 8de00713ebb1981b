"""Admin pages for everything an operator edits; the timeline is read-only."""

from __future__ import annotations

from django.contrib import admin

from dispatchd import models as m
from dispatchd.incidents import admin as incident_admin  # noqa: F401 - registers the war-room pages
from dispatchd.sensors import admin as sensor_admin  # noqa: F401 - registers the alarm rule pages


@admin.register(m.District, m.Street, m.Community)
class AreaAdmin(admin.ModelAdmin):
    list_display = ("code", "name")
    search_fields = ("code", "name")


@admin.register(m.GridCell)
class GridCellAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "community")
    list_filter = ("community__street",)
    search_fields = ("code", "name")


@admin.register(m.Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "parent", "phone")
    search_fields = ("code", "name")


@admin.register(m.Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "kind", "parent", "default_department", "default_severity", "timing")
    list_filter = ("kind", "timing", "parent")
    search_fields = ("code", "name")


@admin.register(m.Holiday)
class HolidayAdmin(admin.ModelAdmin):
    list_display = ("date", "name", "is_workday")
    ordering = ("-date",)


@admin.register(m.RoutingRule)
class RoutingRuleAdmin(admin.ModelAdmin):
    list_display = ("category", "street", "grid", "department", "priority")
    list_filter = ("department", "street")


@admin.register(m.Worker)
class WorkerAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "department", "grid", "state", "last_seen")
    list_filter = ("state", "department")
    search_fields = ("code", "name", "phone")


class TimelineInline(admin.TabularInline):
    model = m.CaseEvent
    extra = 0
    can_delete = False
    fields = ("at", "actor", "action", "from_status", "to_status", "note")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(m.Case)
class CaseAdmin(admin.ModelAdmin):
    """Cases are changed through the workflow (API/console), so the admin only shows them."""

    list_display = ("number", "title", "category", "status", "severity", "sla_state", "created_at")
    list_filter = ("status", "severity", "sla_state", "source", "street")
    search_fields = ("number", "title", "address")
    inlines = [TimelineInline]

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(m.Sensor)
class SensorAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "type", "online", "last_value", "last_seen")
    list_filter = ("type", "online")
    search_fields = ("code", "name")


@admin.register(m.Camera)
class CameraAdmin(admin.ModelAdmin):
    list_display = ("gb_id", "name", "online", "codec", "ptz")
    list_filter = ("online",)
    search_fields = ("gb_id", "name")


@admin.register(m.Alarm)
class AlarmAdmin(admin.ModelAdmin):
    list_display = ("kind", "state", "severity", "message", "raised_at")
    list_filter = ("state", "kind")


@admin.register(m.Geofence)
class GeofenceAdmin(admin.ModelAdmin):
    list_display = ("name", "active", "alarm_after_min", "created_at")
    search_fields = ("name",)


@admin.register(m.DispatchOrder)
class DispatchOrderAdmin(admin.ModelAdmin):
    """Orders are written by the dispatch flow; the admin shows them."""

    list_display = ("case", "worker", "state", "attempt", "offered_at", "responded_at")
    list_filter = ("state",)

    def has_change_permission(self, request, obj=None) -> bool:
        return False
