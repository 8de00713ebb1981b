"""Alarm rules for sensors and the persistent state of each rule on each sensor."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from dispatchd.models.catalog import Severity
from dispatchd.models.devices import Alarm, Sensor, SensorType


class Comparison(models.TextChoices):
    ABOVE = "above", "at or above the threshold"
    BELOW = "below", "at or below the threshold"


class AlarmRule(models.Model):
    """When readings of a sensor type (or of one sensor) raise an alarm, and when it clears.

    A sensor's own active rules replace the rules of its type. A reading breaches the rule when it is
    at or beyond `threshold`; the alarm is raised after `repeat` breaching readings in a row that span
    at least `duration_min`, and clears only once a reading is past `clear_threshold` (hysteresis).
    """

    name = models.CharField(max_length=64)
    sensor_type = models.CharField(max_length=16, choices=SensorType.choices, blank=True)
    sensor = models.ForeignKey(Sensor, null=True, blank=True, on_delete=models.CASCADE, related_name="alarm_rules")
    comparison = models.CharField(max_length=8, choices=Comparison.choices, default=Comparison.ABOVE)
    threshold = models.FloatField()
    clear_threshold = models.FloatField(
        null=True, blank=True, help_text="the alarm clears only past this value (hysteresis); empty: the threshold"
    )
    duration_min = models.FloatField(default=0, help_text="breaching for at least this many minutes")
    repeat = models.PositiveIntegerField(default=1, help_text="breaching readings in a row")
    severity = models.CharField(max_length=16, choices=Severity.choices, default=Severity.NORMAL)
    case_category = models.CharField(
        max_length=16, blank=True, help_text="小类 code of the case to open with the alarm; empty: no case"
    )
    offline_after_min = models.FloatField(
        null=True, blank=True, help_text="a sensor silent this long raises an offline alarm; empty: not watched"
    )
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["sensor_type", "sensor", "threshold"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(sensor__isnull=True) & ~Q(sensor_type="")) | (Q(sensor__isnull=False) & Q(sensor_type="")),
                name="alarm_rule_for_type_or_sensor",
            ),
            models.CheckConstraint(condition=Q(repeat__gte=1), name="alarm_rule_repeat_positive"),
            models.CheckConstraint(condition=Q(duration_min__gte=0), name="alarm_rule_duration_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.sensor.code if self.sensor_id else self.sensor_type}: {self.name}"

    @property
    def clear_level(self) -> float:
        """The value past which an active alarm clears."""
        return self.threshold if self.clear_threshold is None else self.clear_threshold

    def clean(self) -> None:
        """Check the rule applies to exactly one target and its hysteresis points the right way."""
        errors: dict[str, str] = {}
        if bool(self.sensor_id) == bool(self.sensor_type):
            errors["sensor_type"] = "choose a sensor type or a sensor, not both"
        if self.clear_threshold is not None:
            if self.comparison == Comparison.ABOVE and self.clear_threshold > self.threshold:
                errors["clear_threshold"] = "must not be above the threshold"
            if self.comparison == Comparison.BELOW and self.clear_threshold < self.threshold:
                errors["clear_threshold"] = "must not be below the threshold"
        if self.offline_after_min is not None and self.offline_after_min <= 0:
            errors["offline_after_min"] = "must be positive"
        if self.case_category:
            from dispatchd.models.catalog import Category

            if not Category.objects.filter(code=self.case_category, parent__isnull=False).exists():
                errors["case_category"] = "no 小类 with this code"
        if errors:
            raise ValidationError(errors)


class RuleState(models.Model):
    """Where a rule stands on a sensor: the current run of breaching readings and the active alarm."""

    rule = models.ForeignKey(AlarmRule, on_delete=models.CASCADE, related_name="states")
    sensor = models.ForeignKey(Sensor, on_delete=models.CASCADE, related_name="rule_states")
    consecutive = models.PositiveIntegerField(default=0, help_text="breaching readings in a row")
    over_since = models.DateTimeField(null=True, blank=True, help_text="first reading of the current breach")
    last_at = models.DateTimeField(null=True, blank=True, help_text="newest reading evaluated")
    last_value = models.FloatField(null=True, blank=True)
    alarm = models.ForeignKey(Alarm, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["rule", "sensor"], name="uniq_rule_state")]

    def __str__(self) -> str:
        return f"{self.rule} on {self.sensor_id}: {self.consecutive} in a row"
