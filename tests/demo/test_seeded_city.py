"""The seeded demo city: hierarchy, organisation, catalogue, calendar, people, devices, a week of cases."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import shapely
from django.utils import timezone
from shapely.geometry import Point, shape

from dispatchd.demo import seed_if_empty
from dispatchd.models import (
    Camera,
    Case,
    CaseEvent,
    Category,
    Community,
    Department,
    District,
    GridCell,
    Sensor,
    Street,
    Worker,
)
from dispatchd.models.devices import SensorType
from dispatchd.rules.routing import route
from dispatchd.sla import STAGE_OF_STATUS
from dispatchd.workcalendar import load_calendar
from tests.demo.conftest import committed_demo_city


@pytest.fixture(scope="module")
def demo_city(django_db_setup, django_db_blocker):
    with committed_demo_city(django_db_blocker, history=True):
        yield


@pytest.fixture
def district(db, demo_city):
    return shape(District.objects.get().polygon)


def test_hierarchy_counts(db, demo_city):
    assert District.objects.count() == 1
    assert Street.objects.count() == 6
    assert 25 <= Community.objects.count() <= 35
    assert GridCell.objects.count() == 670
    assert not GridCell.objects.filter(community__street__isnull=True).exists()


def test_cell_polygons_are_valid_and_do_not_overlap(db, demo_city):
    cells = [shape(p) for p in GridCell.objects.values_list("polygon", flat=True)]
    assert all(c.is_valid and c.geom_type == "Polygon" for c in cells)
    assert sum(c.area for c in cells) == pytest.approx(shapely.union_all(cells).area, rel=1e-6)


def test_every_worker_is_inside_the_district_and_in_their_cell(db, district):
    workers = list(Worker.objects.select_related("grid"))
    assert len(workers) == 300
    for worker in workers:
        point = Point(worker.lon, worker.lat)
        assert district.contains(point)
        assert shape(worker.grid.polygon).covers(point)
    states = {w.state for w in workers}
    assert {"on_duty", "off_duty"} <= states <= {"on_duty", "off_duty", "busy"}  # busy: holding a case
    assert all(w.skills and w.department_id for w in workers)


def test_at_least_40_subcategories_each_with_department_and_limits(db, demo_city):
    subs = list(Category.objects.filter(parent__isnull=False))
    assert len(subs) >= 40
    assert {c.kind for c in subs} == {"component", "event"}
    stages = set(STAGE_OF_STATUS.values())
    for category in subs:
        assert category.default_department_id is not None
        assert category.timing in ("working", "calendar")
        assert set(category.limits) == stages and set(category.urgent_limits) == stages
        assert all(category.urgent_limits[s] <= category.limits[s] for s in stages)


def test_departments_have_units_for_multi_level_dispatch(db, demo_city):
    assert Department.objects.filter(parent__isnull=True).count() >= 10
    assert Department.objects.filter(parent__isnull=False).count() >= 6


def test_some_routing_goes_to_the_street_own_unit(db, demo_city):
    stall = Category.objects.get(name="占道经营")
    for street in Street.objects.all():
        department, reason = route(stall, street.id, None)
        assert department.name == f"{street.name}执法中队" and reason.startswith("rule")


def test_holidays_and_worked_weekends_shape_the_calendar(db, demo_city):
    calendar = load_calendar()
    assert not calendar.is_workday(date(2026, 2, 16))  # 春节
    assert calendar.is_workday(date(2026, 2, 14))  # Saturday worked (调休)
    assert not calendar.is_workday(date(2026, 10, 5))  # 国庆
    assert not calendar.is_workday(date(2027, 1, 1))


def test_sensors_cover_every_type_with_a_unit(db, district):
    sensors = list(Sensor.objects.all())
    assert len(sensors) == 60
    assert {s.type for s in sensors} == set(SensorType.values)
    assert all(s.unit and district.contains(Point(s.lon, s.lat)) for s in sensors)


def test_cameras_have_valid_gb28181_ids(db, district):
    cameras = list(Camera.objects.all())
    assert len(cameras) == 24
    for camera in cameras:
        assert len(camera.gb_id) == 20 and camera.gb_id.isdigit()
        assert camera.gb_id[10:13] in ("131", "132")
        assert len(camera.device_id) == 20 and camera.device_id[10:13] in ("118", "132")
        assert district.contains(Point(camera.lon, camera.lat))
    assert len({c.gb_id for c in cameras}) == 24


def test_a_week_of_cases_spread_over_the_loop(db, demo_city):
    now = timezone.now()
    cases = Case.objects.all()
    assert 250 <= cases.count() <= 500
    assert not cases.filter(created_at__lt=now - timedelta(days=7, minutes=1)).exists()
    assert not cases.filter(created_at__gt=now).exists()
    statuses = set(cases.values_list("status", flat=True))
    assert {"evaluated", "voided", "merged"} <= statuses
    assert statuses & {"dispatched", "handling"}
    assert len(set(cases.values_list("source", flat=True))) == 7
    actions = set(CaseEvent.objects.values_list("action", flat=True))
    assert {"sla_overdue", "supervise", "redispatch", "extend_approve", "suspend", "resume"} <= actions
    assert Case.objects.filter(assist_departments__isnull=False).exists()


def test_history_timelines_run_forward_in_time(db, demo_city):
    for case in Case.objects.prefetch_related("timeline")[:100]:
        moments = [e.at for e in case.timeline.all()]
        assert moments == sorted(moments)
        assert moments[0] == pytest.approx(case.created_at, abs=timedelta(seconds=1))


def test_seed_if_empty_leaves_a_seeded_database_alone(db, demo_city):
    assert seed_if_empty() is False
    assert District.objects.count() == 1
