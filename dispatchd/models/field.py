"""Field operations: dispatch orders offered to workers, and geofences drawn by operators."""

from __future__ import annotations

from django.db import models

from dispatchd.models.org import Worker


class OrderState(models.TextChoices):
    OFFERED = "offered", "待接单"
    ACCEPTED = "accepted", "已接单"
    DECLINED = "declined", "已拒绝"
    EXPIRED = "expired", "超时未接"
    CANCELLED = "cancelled", "已撤销"


class DispatchOrder(models.Model):
    """A case offered to one worker; accepted, declined, or passed on to the next nearest on timeout."""

    case = models.ForeignKey("dispatchd.Case", on_delete=models.CASCADE, related_name="orders")
    worker = models.ForeignKey(Worker, on_delete=models.CASCADE, related_name="orders")
    state = models.CharField(max_length=16, choices=OrderState.choices, default=OrderState.OFFERED)
    attempt = models.IntegerField(default=1, help_text="1 for the first worker asked, 2 for the fallback …")
    distance_m = models.FloatField(null=True, blank=True)
    criteria = models.JSONField(default=dict, blank=True, help_text="filters the fallback search reuses")
    offered_at = models.DateTimeField()
    expires_at = models.DateTimeField(db_index=True)
    responded_at = models.DateTimeField(null=True, blank=True)
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        indexes = [models.Index(fields=["state", "expires_at"])]

    def __str__(self) -> str:
        return f"order {self.pk}: case {self.case_id} → worker {self.worker_id} ({self.state})"


class Geofence(models.Model):
    """A polygon an operator draws; crossing it is reported, staying out too long raises an alarm."""

    name = models.CharField(max_length=64)
    polygon = models.JSONField(help_text="GeoJSON Polygon geometry (lon/lat)")
    workers = models.ManyToManyField(Worker, blank=True, related_name="geofences", help_text="none means everyone")
    alarm_after_min = models.FloatField(null=True, blank=True, help_text="alarm when outside this long")
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name
