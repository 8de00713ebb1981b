"""Models of the dispatch domain, one module per concept."""

from dispatchd.models.cases import Attachment, Case, CaseCounter, CaseEvent, CaseStatus
from dispatchd.models.catalog import Category, Holiday, Severity, TimingMode
from dispatchd.models.devices import Alarm, Camera, PositionFix, Sensor, SensorReading
from dispatchd.models.field import DispatchOrder, Geofence, OrderState
from dispatchd.models.grid import Community, District, GridCell, Street
from dispatchd.models.org import Department, RoutingRule, Worker

__all__ = [
    "Alarm",
    "Attachment",
    "Camera",
    "Case",
    "CaseCounter",
    "CaseEvent",
    "CaseStatus",
    "Category",
    "Community",
    "Department",
    "DispatchOrder",
    "District",
    "Geofence",
    "GridCell",
    "Holiday",
    "OrderState",
    "PositionFix",
    "RoutingRule",
    "Sensor",
    "SensorReading",
    "Severity",
    "Street",
    "TimingMode",
    "Worker",
]
