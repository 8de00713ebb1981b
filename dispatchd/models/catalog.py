"""Case categories (部件/事件, 大类/小类), their time limits, and the working calendar."""

from __future__ import annotations

from django.db import models


class Severity(models.TextChoices):
    LOW = "low", "一般"
    NORMAL = "normal", "较重"
    HIGH = "high", "严重"
    MAJOR = "major", "重大"


class TimingMode(models.TextChoices):
    WORKING = "working", "working hours (工作时计时)"
    CALENDAR = "calendar", "calendar hours (自然时计时)"
    NONE = "none", "not timed (不计时)"


class Category(models.Model):
    """A category: a 大类 has no parent, a 小类 has its 大类 as parent. Only 小类 are used on cases."""

    KIND_CHOICES = [("component", "部件"), ("event", "事件")]

    code = models.CharField(max_length=16, unique=True)
    name = models.CharField(max_length=64)
    kind = models.CharField(max_length=16, choices=KIND_CHOICES, default="event")
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="children"
    )
    default_department = models.ForeignKey(
        "dispatchd.Department", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    default_severity = models.CharField(max_length=16, choices=Severity.choices, default=Severity.NORMAL)
    timing = models.CharField(max_length=16, choices=TimingMode.choices, default=TimingMode.WORKING)
    limits = models.JSONField(
        default=dict,
        blank=True,
        help_text='hours per stage, e.g. {"accept": 0.5, "register": 1, "dispatch": 1, "handle": 8, '
        '"verify": 4, "close": 2}',
    )
    urgent_limits = models.JSONField(default=dict, blank=True, help_text="hours per stage for urgent cases")
    register_standard = models.TextField(blank=True, help_text="立案标准")
    close_standard = models.TextField(blank=True, help_text="结案标准")

    class Meta:
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Holiday(models.Model):
    """A day that differs from the normal week: a holiday, or a weekend day worked (调休)."""

    date = models.DateField(unique=True)
    name = models.CharField(max_length=64, blank=True)
    is_workday = models.BooleanField(default=False, help_text="true for a weekend day that is worked")

    def __str__(self) -> str:
        return f"{self.date} {self.name}"
