"""Admin pages: API tokens (list and revoke; created with `wall token create`) and the read-only audit log."""

from __future__ import annotations

from django.contrib import admin

from dispatchd.models import AuditEntry
from wall.auth import principal_from_user, revoke_tokens
from wall.logins import LockoutAdminAuthenticationForm
from wall.models import ApiToken

# The admin login says so when the lockout refused an attempt (wall/logins.py).
admin.site.login_form = LockoutAdminAuthenticationForm


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("name", "role", "prefix", "worker", "created_at", "last_used_at", "revoked_at")
    list_filter = ("role",)
    search_fields = ("name", "prefix")
    readonly_fields = ("name", "role", "prefix", "digest", "worker", "created_at", "last_used_at", "revoked_at")
    actions = ["revoke"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # revoke instead: a deleted token would leave audit entries naming nothing

    @admin.action(description="Revoke selected tokens")
    def revoke(self, request, queryset) -> None:
        """Revoke the selected tokens, in the audit log under the admin's name."""
        by = principal_from_user(request.user) or f"admin:{request.user.get_username()}"
        revoked = revoke_tokens(queryset, by)
        self.message_user(request, f"{len(revoked)} token(s) revoked")


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """The audit log: admins list, filter and search it; nobody adds, changes or deletes an entry."""

    list_display = ("at", "actor", "role", "action", "target", "ip")
    list_filter = ("action", "role")
    search_fields = ("actor", "action", "target", "ip")
    date_hierarchy = "at"
    readonly_fields = ("at", "actor", "role", "action", "target", "detail", "ip")
    actions = None

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
