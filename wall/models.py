"""Models of the project itself: API tokens."""

from __future__ import annotations

from django.db import models

ROLE_CHOICES = [
    ("wall", "wall display (read-only)"),
    ("commander", "duty commander"),
    ("worker", "field worker"),
    ("device", "device ingest"),
    ("admin", "administrator"),
]


class ApiToken(models.Model):
    """A bearer token. Only its SHA-256 is stored; the token itself is shown once at creation."""

    name = models.CharField(max_length=64)
    role = models.CharField(max_length=16, choices=ROLE_CHOICES)
    prefix = models.CharField(max_length=8, help_text="first characters, to recognise a token")
    digest = models.CharField(max_length=64, unique=True)
    worker = models.ForeignKey(
        "dispatchd.Worker", null=True, blank=True, on_delete=models.CASCADE, related_name="tokens"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.role}, {self.prefix}…)"
