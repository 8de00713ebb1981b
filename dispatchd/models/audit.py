"""The audit log: who did what to which thing, when and from where; rows are only ever added."""

from __future__ import annotations

from django.db import models


class AuditEntry(models.Model):
    """One audited act: a dispatch action, an incident action, a login or logout, a token created or revoked.

    Nothing updates or deletes a row: the admin page is read-only, the API only reads, and the database
    refuses UPDATE (and on PostgreSQL DELETE) with a trigger (migration 0005).
    """

    at = models.DateTimeField(db_index=True)
    actor = models.CharField(max_length=150, blank=True, help_text="name of who acted (a user, token or component)")
    role = models.CharField(max_length=16, blank=True, help_text="their role; empty when anonymous")
    action = models.CharField(max_length=64, help_text='what was done, e.g. "case.dispatch", "login.failed"')
    target = models.CharField(max_length=200, blank=True, help_text='what it was done to, e.g. "case:12"')
    detail = models.JSONField(default=dict, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True, help_text="source address, where known")

    class Meta:
        ordering = ["-id"]
        verbose_name = "audit entry"
        verbose_name_plural = "audit log"
        indexes = [
            models.Index(fields=["action", "target", "at"], name="audit_action_target_at"),
            models.Index(fields=["action", "ip", "at"], name="audit_action_ip_at"),
            models.Index(fields=["actor", "at"], name="audit_actor_at"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.role}:{self.actor} {self.action} {self.target}"
