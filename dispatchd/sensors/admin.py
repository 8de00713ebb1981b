"""Admin pages for the sensor alarm rules; rule states are written by the engine and only shown."""

from __future__ import annotations

from django.contrib import admin

from dispatchd.models import AlarmRule, RuleState


class RuleStateInline(admin.TabularInline):
    model = RuleState
    extra = 0
    can_delete = False
    fields = ("sensor", "consecutive", "over_since", "last_at", "last_value", "alarm")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(AlarmRule)
class AlarmRuleAdmin(admin.ModelAdmin):
    list_display = (
        "name", "sensor_type", "sensor", "comparison", "threshold", "clear_threshold", "duration_min", "repeat",
        "severity", "case_category", "offline_after_min", "active",
    )
    list_filter = ("sensor_type", "severity", "active")
    list_editable = ("active",)
    search_fields = ("name", "sensor__code", "case_category")
    raw_id_fields = ("sensor",)
    inlines = [RuleStateInline]


@admin.register(RuleState)
class RuleStateAdmin(admin.ModelAdmin):
    """The engine's view of each rule on each sensor, read-only."""

    list_display = ("rule", "sensor", "consecutive", "over_since", "last_at", "last_value", "alarm")
    list_filter = ("rule__sensor_type",)
    raw_id_fields = ("rule", "sensor", "alarm")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
