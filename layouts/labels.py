"""Chinese display names of every code the screens show, from the models' choices where they have them."""

from __future__ import annotations

from typing import Any

from django.conf import settings

WORKER_STATES = {"on_duty": "在岗", "busy": "处置中", "off_duty": "离岗", "offline": "离线"}
SLA_STATES = {"none": "不计时", "ok": "正常", "warning": "预警", "overdue": "超期", "escalated": "严重超期"}
ALARM_KINDS = {
    "sensor_threshold": "传感器超限",
    "sensor_offline": "传感器离线",
    "geofence_dwell": "越界滞留",
    "geofence.exit": "离开围栏",
    "geofence.enter": "进入围栏",
    "camera_video": "视频告警",
    "camera_device": "设备告警",
    "camera_device_fault": "设备故障",
}
TIMELINE_EXTRA = {
    "report": "上报",
    "sla_warning": "时限预警",
    "sla_overdue": "超期",
    "sla_escalated": "超期升级",
    "order_accepted": "接单",
    "order_declined": "拒单",
    "dispatch_fallback": "改派就近人员",
    "dispatch_unassigned": "无人可派",
    "merge_in": "并入案件",
    "attach": "附件",
}
# The case statuses still in the loop (shown on the map and in the queue).
OPEN_STATUSES = ("reported", "accepted", "registered", "dispatched", "handling", "feedback", "verified", "suspended")


def labels() -> dict[str, dict[str, str]]:
    """Every label table the browser needs, keyed by what it names."""
    from dispatchd.models import CaseStatus, OrderState
    from dispatchd.models.cases import Source
    from dispatchd.models.catalog import Severity
    from dispatchd.models.devices import SensorType
    from dispatchd.workflow import ACTIONS

    return {
        "status": dict(CaseStatus.choices),
        "severity": dict(Severity.choices),
        "source": dict(Source.choices),
        "sensor": dict(SensorType.choices),
        "order": dict(OrderState.choices),
        "worker": WORKER_STATES,
        "sla": SLA_STATES,
        "alarm": ALARM_KINDS,
        "action": {**TIMELINE_EXTRA, **{a.name: a.label for a in ACTIONS.values()}},
    }


def page_config(**extra: Any) -> dict[str, Any]:
    """What every page's script starts from: labels, time zone, tile URL, open statuses, district bounds."""
    from layouts.basemap import district_bounds

    return {
        "bounds": district_bounds(),
        "labels": labels(),
        "tz": settings.TIME_ZONE,
        "tileUrl": getattr(settings, "WALL_TILE_URL", ""),
        "open": list(OPEN_STATUSES),
        **extra,
    }
