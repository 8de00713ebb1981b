"""Models of the dispatch domain, one module per concept."""

from dispatchd.models.audit import AuditEntry
from dispatchd.models.cases import Attachment, Case, CaseCounter, CaseEvent, CaseStatus
from dispatchd.models.catalog import Category, Holiday, Severity, TimingMode
from dispatchd.models.devices import Alarm, Camera, PositionFix, Sensor, SensorReading
from dispatchd.models.field import DispatchOrder, Geofence, OrderState
from dispatchd.models.grid import Community, District, GridCell, Street
from dispatchd.models.incidents import (
    Broadcast,
    BroadcastReceipt,
    Incident,
    IncidentAction,
    IncidentLevel,
    IncidentState,
    Resource,
    ResourceKind,
    Responder,
)
from dispatchd.models.org import Department, RoutingRule, Worker
from dispatchd.models.sensors import AlarmRule, Comparison, RuleState

__all__ = [
    "Alarm",
    "AlarmRule",
    "Attachment",
    "AuditEntry",
    "Broadcast",
    "BroadcastReceipt",
    "Camera",
    "Case",
    "CaseCounter",
    "CaseEvent",
    "CaseStatus",
    "Category",
    "Community",
    "Comparison",
    "Department",
    "DispatchOrder",
    "District",
    "Geofence",
    "GridCell",
    "Holiday",
    "Incident",
    "IncidentAction",
    "IncidentLevel",
    "IncidentState",
    "OrderState",
    "PositionFix",
    "Resource",
    "ResourceKind",
    "Responder",
    "RoutingRule",
    "RuleState",
    "Sensor",
    "SensorReading",
    "Severity",
    "Street",
    "TimingMode",
    "Worker",
]
