"""Cases (案卷), their append-only timeline and attachments."""

from __future__ import annotations

from django.db import models

from dispatchd.models.catalog import Category, Severity
from dispatchd.models.grid import Community, GridCell, Street
from dispatchd.models.org import Department, Worker


class CaseStatus(models.TextChoices):
    REPORTED = "reported", "上报"
    ACCEPTED = "accepted", "受理"
    REGISTERED = "registered", "立案"
    DISPATCHED = "dispatched", "派遣"
    HANDLING = "handling", "处置"
    FEEDBACK = "feedback", "反馈"
    VERIFIED = "verified", "核查"
    CLOSED = "closed", "结案"
    EVALUATED = "evaluated", "评价"
    SUSPENDED = "suspended", "挂账"
    VOIDED = "voided", "作废"
    MERGED = "merged", "并案"


class Source(models.TextChoices):
    HOTLINE = "hotline", "12345热线"
    WECHAT = "wechat", "微信"
    MAILBOX = "mailbox", "政府信箱"
    APP = "app", "网格员上报"
    SENSOR = "sensor", "传感器告警"
    VIDEO_AI = "video_ai", "视频AI"
    OTHER_SYSTEM = "other_system", "其他系统"


class SlaState(models.TextChoices):
    NONE = "none", "not timed"
    OK = "ok", "on time"
    WARNING = "warning", "warning"
    OVERDUE = "overdue", "overdue"
    ESCALATED = "escalated", "escalated"


class CaseCounter(models.Model):
    """Per-day sequence behind case numbers."""

    day = models.CharField(max_length=8, unique=True)
    value = models.IntegerField(default=0)


class Case(models.Model):
    """A case moving through the loop. `version` guards against concurrent transitions."""

    number = models.CharField(max_length=20, unique=True)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    source = models.CharField(max_length=16, choices=Source.choices)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="cases")
    severity = models.CharField(max_length=16, choices=Severity.choices, default=Severity.NORMAL)
    urgent = models.BooleanField(default=False)
    lat = models.FloatField()
    lon = models.FloatField()
    address = models.CharField(max_length=200, blank=True)
    grid = models.ForeignKey(GridCell, null=True, blank=True, on_delete=models.SET_NULL, related_name="cases")
    community = models.ForeignKey(Community, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    street = models.ForeignKey(Street, null=True, blank=True, on_delete=models.SET_NULL, related_name="cases")
    outside_area = models.BooleanField(default=False, help_text="the point lies in no grid cell")
    reporter = models.CharField(max_length=64, blank=True)
    reporter_phone = models.CharField(max_length=32, blank=True)
    external_id = models.CharField(max_length=64, blank=True, help_text="id in the source system")

    status = models.CharField(max_length=16, choices=CaseStatus.choices, default=CaseStatus.REPORTED)
    status_before_suspend = models.CharField(max_length=16, blank=True)
    department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.SET_NULL, related_name="main_cases"
    )
    assist_departments = models.ManyToManyField(Department, blank=True, related_name="assist_cases")
    worker = models.ForeignKey(Worker, null=True, blank=True, on_delete=models.SET_NULL, related_name="cases")
    dispatch_level = models.IntegerField(default=0)
    routed_by_rule = models.BooleanField(default=False)
    merged_into = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="merged")
    duplicate_candidates = models.JSONField(default=list, blank=True)
    rework_count = models.IntegerField(default=0)
    supervise_count = models.IntegerField(default=0)
    extension_pending_hours = models.FloatField(null=True, blank=True)
    evaluation = models.IntegerField(null=True, blank=True, help_text="1..5")

    # SLA timer of the current stage; stored so that a restart loses nothing.
    stage = models.CharField(max_length=16, blank=True)
    stage_started_at = models.DateTimeField(null=True, blank=True)
    stage_limit_h = models.FloatField(null=True, blank=True)
    warn_at = models.DateTimeField(null=True, blank=True, db_index=True)
    deadline = models.DateTimeField(null=True, blank=True, db_index=True)
    escalate_at = models.DateTimeField(null=True, blank=True, db_index=True)
    sla_state = models.CharField(max_length=16, choices=SlaState.choices, default=SlaState.NONE)
    paused_elapsed_h = models.FloatField(null=True, blank=True, help_text="stage time used when suspended")

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    version = models.IntegerField(default=0)

    class Meta:
        indexes = [
            models.Index(fields=["status", "created_at"]),
            models.Index(fields=["category", "created_at"]),
            models.Index(fields=["lat", "lon"]),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"


class CaseEvent(models.Model):
    """One append-only timeline entry (处处留痕): who did what, when, from which status to which."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="timeline")
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.CharField(max_length=64)
    action = models.CharField(max_length=32)
    from_status = models.CharField(max_length=16, blank=True)
    to_status = models.CharField(max_length=16, blank=True)
    note = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.case_id} {self.action} {self.from_status}→{self.to_status}"

    def save(self, *args, **kwargs) -> None:  # noqa: D102 - append-only guard
        if self.pk is not None:
            raise ValueError("timeline entries are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):  # noqa: D102 - append-only guard
        raise ValueError("timeline entries are append-only")


class Attachment(models.Model):
    """A photo or file attached to a case, e.g. with feedback."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="attachments")
    event = models.ForeignKey(CaseEvent, null=True, blank=True, on_delete=models.SET_NULL)
    name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.IntegerField()
    file = models.FileField(upload_to="attachments/%Y/%m/")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name
