"""Organisation: departments, field workers and routing rules."""

from __future__ import annotations

from django.db import models

from dispatchd.models.catalog import Category
from dispatchd.models.grid import GridCell, Street


class Department(models.Model):
    """A handling department (专业部门) or a unit below one (multi-level dispatch)."""

    code = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=64)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="units")
    phone = models.CharField(max_length=32, blank=True)

    def __str__(self) -> str:
        return self.name


class WorkerState(models.TextChoices):
    OFF_DUTY = "off_duty", "off duty"
    ON_DUTY = "on_duty", "on duty"
    BUSY = "busy", "busy"
    OFFLINE = "offline", "offline"


class Worker(models.Model):
    """A field worker (网格员/街长): belongs to a grid cell and a department, has skills."""

    code = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=64)
    phone = models.CharField(max_length=32, blank=True)
    grid = models.ForeignKey(GridCell, null=True, blank=True, on_delete=models.SET_NULL, related_name="workers")
    department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.SET_NULL, related_name="workers"
    )
    skills = models.JSONField(default=list, blank=True, help_text='list of skill tags, e.g. ["electric"]')
    state = models.CharField(max_length=16, choices=WorkerState.choices, default=WorkerState.OFF_DUTY)
    lat = models.FloatField(null=True, blank=True)
    lon = models.FloatField(null=True, blank=True)
    last_seen = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class RoutingRule(models.Model):
    """Category (+ optional street or grid cell) → department; the most specific match wins."""

    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="routing_rules")
    street = models.ForeignKey(Street, null=True, blank=True, on_delete=models.CASCADE)
    grid = models.ForeignKey(GridCell, null=True, blank=True, on_delete=models.CASCADE)
    department = models.ForeignKey(Department, on_delete=models.CASCADE)
    priority = models.IntegerField(default=0, help_text="higher wins among equally specific rules")

    def __str__(self) -> str:
        where = self.grid or self.street or "anywhere"
        return f"{self.category} @ {where} → {self.department}"
