"""Emergency war-room mode (平战结合): incidents, their timeline, responders, broadcasts, emergency resources."""

from __future__ import annotations

from django.db import models

from dispatchd.models.org import Worker


class IncidentLevel(models.IntegerChoices):
    I = 1, "Ⅰ级 特别重大"  # noqa: E741 - the official level names
    II = 2, "Ⅱ级 重大"
    III = 3, "Ⅲ级 较大"
    IV = 4, "Ⅳ级 一般"


class IncidentState(models.TextChoices):
    DECLARED = "declared", "战时"
    STOOD_DOWN = "stood_down", "已解除"


def default_rings() -> list[int]:
    """500 m, 1 km and 3 km: the rings of an incident unless the commander names others."""
    return [500, 1000, 3000]


class Incident(models.Model):
    """A major incident that takes the walls into war-room mode until it is stood down."""

    title = models.CharField(max_length=200)
    level = models.IntegerField(choices=IncidentLevel.choices, default=IncidentLevel.II)
    lat = models.FloatField()
    lon = models.FloatField()
    rings_m = models.JSONField(default=default_rings, help_text="radius rings in metres, ascending")
    commander = models.CharField(max_length=64, help_text="the commander in charge")
    case = models.ForeignKey(
        "dispatchd.Case", null=True, blank=True, on_delete=models.SET_NULL, related_name="incidents"
    )
    state = models.CharField(max_length=16, choices=IncidentState.choices, default=IncidentState.DECLARED)
    declared_by = models.CharField(max_length=80)
    declared_at = models.DateTimeField()
    stood_down_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["state", "declared_at"])]

    def __str__(self) -> str:
        return f"incident {self.pk}: {self.title} ({self.state})"


class IncidentAction(models.Model):
    """One entry of an incident's append-only timeline: who did what, when."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="actions")
    at = models.DateTimeField()
    actor = models.CharField(max_length=80)
    kind = models.CharField(max_length=32, help_text="declared, dispatch, ack, arrival, broadcast, note …")
    text = models.CharField(max_length=500, blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.at:%H:%M:%S} {self.actor} {self.kind}"


class Responder(models.Model):
    """A worker dispatched to an incident: the order offered, and when they first stood inside the inner ring."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="responders")
    worker = models.ForeignKey(Worker, on_delete=models.CASCADE, related_name="+")
    order = models.ForeignKey("dispatchd.DispatchOrder", null=True, on_delete=models.SET_NULL, related_name="+")
    distance_m = models.FloatField(null=True, blank=True)
    dispatched_at = models.DateTimeField()
    arrived_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["incident", "worker"], name="uniq_responder")]


class Broadcast(models.Model):
    """An order or message sent to every worker inside one ring at the moment it was sent."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="broadcasts")
    ring_m = models.IntegerField()
    text = models.CharField(max_length=500)
    sent_by = models.CharField(max_length=80)
    sent_at = models.DateTimeField()


class BroadcastReceipt(models.Model):
    """Delivery and read receipt of one broadcast for one worker."""

    broadcast = models.ForeignKey(Broadcast, on_delete=models.CASCADE, related_name="receipts")
    worker = models.ForeignKey(Worker, on_delete=models.CASCADE, related_name="+")
    distance_m = models.FloatField()
    delivered_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["broadcast", "worker"], name="uniq_broadcast_receipt")]


class ResourceKind(models.TextChoices):
    SHELTER = "shelter", "避难场所"
    HYDRANT = "hydrant", "消防栓"
    VEHICLE = "vehicle", "应急车辆"
    STOCK = "stock", "物资储备"


class Resource(models.Model):
    """An emergency resource at a place: a shelter, a hydrant, a vehicle, a store of supplies."""

    kind = models.CharField(max_length=16, choices=ResourceKind.choices)
    name = models.CharField(max_length=100)
    lat = models.FloatField()
    lon = models.FloatField()
    quantity = models.IntegerField(null=True, blank=True, help_text="capacity (people) or quantity (items)")
    notes = models.CharField(max_length=500, blank=True)

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.name}"
