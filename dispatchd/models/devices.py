"""Field devices and their data: positions, sensors, readings, cameras, alarms."""

from __future__ import annotations

from django.core.validators import RegexValidator
from django.db import models

from dispatchd.models.grid import GridCell
from dispatchd.models.org import Worker


class PositionFix(models.Model):
    """One GPS fix of a worker, kept for trails and playback."""

    worker = models.ForeignKey(Worker, on_delete=models.CASCADE, related_name="fixes")
    at = models.DateTimeField()
    lat = models.FloatField()
    lon = models.FloatField()
    accuracy_m = models.FloatField(null=True, blank=True)
    speed_mps = models.FloatField(null=True, blank=True)
    heading = models.FloatField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["worker", "at"])]
        constraints = [models.UniqueConstraint(fields=["worker", "at"], name="uniq_fix_worker_at")]


class SensorType(models.TextChoices):
    SMOKE = "smoke", "烟感"
    GAS = "gas", "燃气"
    NOISE = "noise", "噪声"
    DUST = "dust", "扬尘/PM"
    WATER_LEVEL = "water_level", "水位"
    SEWAGE = "sewage", "污水"
    AIR = "air", "空气质量"


class Sensor(models.Model):
    """An IoT sensor (物联感知) at a fixed place."""

    code = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=64)
    type = models.CharField(max_length=16, choices=SensorType.choices)
    unit = models.CharField(max_length=16, blank=True)
    lat = models.FloatField()
    lon = models.FloatField()
    grid = models.ForeignKey(GridCell, null=True, blank=True, on_delete=models.SET_NULL)
    online = models.BooleanField(default=True)
    last_value = models.FloatField(null=True, blank=True)
    last_seen = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class SensorReading(models.Model):
    """One reading of a sensor."""

    sensor = models.ForeignKey(Sensor, on_delete=models.CASCADE, related_name="readings")
    at = models.DateTimeField()
    value = models.FloatField()

    class Meta:
        indexes = [models.Index(fields=["sensor", "at"])]
        constraints = [models.UniqueConstraint(fields=["sensor", "at"], name="uniq_reading_sensor_at")]


GB_ID = RegexValidator(r"^\d{20}$", "a GB/T 28181 id is 20 digits")


class Camera(models.Model):
    """A surveillance camera channel, addressed by its 20-digit GB/T 28181 id."""

    gb_id = models.CharField(max_length=20, unique=True, validators=[GB_ID])
    device_id = models.CharField(max_length=20, blank=True, validators=[GB_ID])
    name = models.CharField(max_length=64)
    lat = models.FloatField(null=True, blank=True)
    lon = models.FloatField(null=True, blank=True)
    grid = models.ForeignKey(GridCell, null=True, blank=True, on_delete=models.SET_NULL)
    online = models.BooleanField(default=False)
    codec = models.CharField(max_length=16, blank=True)
    ptz = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"{self.gb_id} {self.name}"


class Alarm(models.Model):
    """An alarm raised by a sensor, a camera or a rule; raised → acknowledged → cleared."""

    STATES = [("raised", "raised"), ("acknowledged", "acknowledged"), ("cleared", "cleared")]

    kind = models.CharField(max_length=32)
    state = models.CharField(max_length=16, choices=STATES, default="raised")
    severity = models.CharField(max_length=16, default="normal")
    message = models.CharField(max_length=200)
    sensor = models.ForeignKey(Sensor, null=True, blank=True, on_delete=models.SET_NULL, related_name="alarms")
    camera = models.ForeignKey(Camera, null=True, blank=True, on_delete=models.SET_NULL, related_name="alarms")
    worker = models.ForeignKey(Worker, null=True, blank=True, on_delete=models.SET_NULL, related_name="alarms")
    case = models.ForeignKey("dispatchd.Case", null=True, blank=True, on_delete=models.SET_NULL)
    lat = models.FloatField(null=True, blank=True)
    lon = models.FloatField(null=True, blank=True)
    value = models.FloatField(null=True, blank=True)
    raised_at = models.DateTimeField(auto_now_add=True, db_index=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.CharField(max_length=64, blank=True)
    cleared_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.kind} {self.state}: {self.message}"
