"""The workers API: nearest with filters, order answers by the worker itself, geofences, patrol figures."""

from __future__ import annotations

from datetime import timedelta

import pytest

import wall.api.workers  # noqa: F401 - registers the router until wall/api/__init__ imports it
from dispatchd.field import pipeline
from dispatchd.models import Geofence
from tests.city import square
from tests.field.conftest import fix, track

M_LAT = 1 / 110_750


@pytest.fixture
def placed(city, clock, events):
    """Workers 0..5 placed 100 m apart going north from the centre of cell 0."""
    lat, lon = city.point_in(0)
    with events.committing():
        pipeline.ingest([fix(w, lat + i * 100 * M_LAT, lon, clock.now) for i, w in enumerate(city.workers)])
    return lat, lon


def test_nearest_applies_skill_department_and_distance_filters(city, placed, api_as):
    lat, lon = placed
    wall = api_as("wall")
    body = wall.get("workers/nearest", {"lat": lat, "lon": lon, "k": 3, "skill": "electric"}).json()
    assert [r["code"] for r in body] == ["W0", "W3"]  # electric: W0 and W3
    env = city.departments["ENV"].id
    body = wall.get("workers/nearest", {"lat": lat, "lon": lon, "department": env, "max_km": 0.35}).json()
    assert [r["code"] for r in body] == ["W1", "W3"]
    assert body[0]["distance_m"] == pytest.approx(100, abs=1) and body[0]["eta_s"] > 0


@pytest.mark.parametrize("query", [{"lat": 91, "lon": 114}, {"lat": 22, "lon": 114, "k": 0},
                                   {"lat": 22, "lon": 114, "max_km": -1}, {"lon": 114}])
def test_nearest_refuses_bad_parameters_with_400(city, api_as, query):
    assert api_as("commander").get("workers/nearest", query).status_code == 400


def test_workers_may_not_search_for_colleagues(city, api_as):
    assert api_as("worker", city.workers[0]).get("workers/nearest", {"lat": 22.7, "lon": 114.3}).status_code == 403


def test_a_worker_answers_its_own_orders_only(city, placed, api_as, events):
    from dispatchd import workflow
    from dispatchd.models import DispatchOrder
    from tests.dispatchd.helpers import act, report

    case = act(city, act(city, report(city, cell=0), "accept"), "register", note="立案")
    with events.committing():
        case = workflow.perform(case.pk, "dispatch", city.commander, {"worker": city.workers[1].id})
        order = DispatchOrder.objects.get(case=case, worker=city.workers[1])
    w1, w3 = city.workers[1], city.workers[3]
    path = f"workers/{w1.id}/orders/{order.id}/accept"
    assert api_as("worker", w3).post(path).status_code == 403
    response = api_as("worker", w1).post(path)
    assert response.status_code == 200 and response.json()["state"] == "accepted"
    assert api_as("worker", w1).post(path).status_code == 409
    orders = api_as("worker", w1).get(f"workers/{w1.id}/orders").json()
    assert [o["id"] for o in orders] == [order.id]


def test_an_operator_draws_a_geofence_and_bad_polygons_are_refused(city, api_as):
    commander = api_as("commander")
    created = commander.post("geofences", {"name": "工地", "polygon": square(114.30, 22.70, 0.002),
                                           "workers": [city.workers[0].id], "alarm_after_min": 5})
    assert created.status_code == 201 and created.json()["workers"] == [city.workers[0].id]
    bowtie = {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}
    assert commander.post("geofences", {"name": "x", "polygon": bowtie}).status_code == 400
    assert commander.post("geofences", {"name": "x", "polygon": {"type": "Nope"}}).status_code == 400
    assert api_as("wall").post("geofences", {"name": "x", "polygon": square(1, 1)}).status_code == 403
    assert Geofence.objects.count() == 1


def test_patrol_figures_sum_time_distance_and_time_inside_the_own_grid(city, clock, api_as, events):
    w = city.workers[0]
    lat, lon = city.point_in(0)
    start = clock.now - timedelta(minutes=30)
    points = [(lat + i * 10 * M_LAT, lon) for i in range(61)]  # 10 m every 10 s, 600 m north: leaves cell 0
    with events.committing():
        pipeline.ingest(track(w, points, start, step_s=10, accuracy_m=5))
    body = api_as("commander").get(f"workers/{w.id}/patrol", {"day": clock.now.date().isoformat()}).json()
    assert body["fixes"] == 61 and body["on_duty_s"] == 600
    assert body["distance_m"] == pytest.approx(600, rel=0.01)
    assert body["in_grid_s"] == pytest.approx(550, abs=10)  # the north edge is 553 m from the start
