"""Nearest-personnel dispatch: the order reaches the worker, who turns busy; decline and timeout fall back."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction

from dispatchd import dispatching, workflow
from dispatchd.errors import NotAllowed, TransitionRefused
from dispatchd.field import pipeline
from dispatchd.models import Case, CaseStatus, DispatchOrder, OrderState, Worker
from tests.dispatchd.helpers import act, report
from tests.field.conftest import fix

M_LAT = 1 / 110_750  # degrees of latitude per metre


@pytest.fixture
def scene(city, clock, events):
    """A registered litter case (→ 环卫所 ENV) in cell 0 and workers north of it at known distances."""
    case = report(city, cell=0)
    case = act(city, act(city, case, "accept"), "register", note="立案")
    lat, lon = case.lat, case.lon
    w = city.workers  # ENV: W1, W3, W5; ROAD: W0, W2, W4
    placed = {w[0]: 10, w[1]: 100, w[5]: 300, w[3]: 600, w[2]: 50}
    with events.committing():
        at = clock.now - timedelta(seconds=5)
        pipeline.ingest([fix(worker, lat + m * M_LAT, lon, at) for worker, m in placed.items()])
    return case


def dispatch_to(city, case: Case, worker: Worker) -> DispatchOrder:
    """The `dispatch` action with a worker; the workflow offers the case to the worker."""
    with transaction.atomic():
        case = workflow.perform(case.pk, "dispatch", city.commander, {"worker": worker.id, "note": "就近派遣"})
        return DispatchOrder.objects.get(case=case, worker=worker, state=OrderState.OFFERED)


def test_recommendation_skips_other_departments_and_ranks_by_distance(city, scene):
    got = dispatching.recommend(scene.lat, scene.lon, 3, department=city.departments["ENV"].id)
    assert [r.state.worker_id for r in got] == [city.workers[i].id for i in (1, 5, 3)]
    assert abs(got[0].distance_m - 100) < 1
    assert got[0].eta_s == pytest.approx(got[0].distance_m / 3.0)


def test_dispatch_makes_the_worker_busy_and_sends_the_order_on_its_user_topic(city, scene, events):
    w1 = city.workers[1]
    with events.committing():
        order = dispatch_to(city, scene, w1)
    assert order.state == OrderState.OFFERED
    orders = events.data("dispatch.order", topic=f"user.{w1.id}")
    assert [(o["id"], o["case_id"]) for o in orders] == [(order.id, scene.id)]
    assert Worker.objects.get(pk=w1.id).state == "busy"
    nearest = dispatching.recommend(scene.lat, scene.lon, 5, department=city.departments["ENV"].id)
    assert w1.id not in [r.state.worker_id for r in nearest]


def test_an_accepted_order_keeps_the_case_with_the_worker(city, scene, events):
    w1 = city.workers[1]
    with events.committing():
        order = dispatch_to(city, scene, w1)
        dispatching.accept(order.id, w1.id, city.worker_actor(1))
    case = Case.objects.get(pk=scene.pk)
    assert (case.worker_id, case.status) == (w1.id, CaseStatus.DISPATCHED)
    assert "order_accepted" in case.timeline.values_list("action", flat=True)
    with pytest.raises(TransitionRefused):
        dispatching.decline(order.id, w1.id, city.worker_actor(1))


def test_a_declined_order_passes_to_the_next_nearest_and_frees_the_decliner(city, scene, events):
    w1, w5 = city.workers[1], city.workers[5]
    with events.committing():
        order = dispatch_to(city, scene, w1)
        dispatching.decline(order.id, w1.id, city.worker_actor(1), note="正在处理另一案件")
    case = Case.objects.get(pk=scene.pk)
    assert case.worker_id == w5.id
    assert Worker.objects.get(pk=w1.id).state == "on_duty"
    assert events.data("dispatch.order", topic=f"user.{w5.id}")[0]["attempt"] == 2
    assert list(case.timeline.values_list("action", flat=True))[-2:] == ["order_declined", "dispatch_fallback"]


def test_unanswered_orders_fall_back_in_distance_order_until_nobody_is_left(city, scene, clock, events):
    w = city.workers
    with events.committing():
        dispatch_to(city, scene, w[1])
        assert dispatching.check_dispatch_timeouts(clock.now + timedelta(seconds=60)) == 0
        chain = []
        for step in range(1, 4):
            assert dispatching.check_dispatch_timeouts(clock.now + timedelta(seconds=121 * step)) == 1
            chain.append(Case.objects.get(pk=scene.pk).worker_id)
        assert dispatching.check_dispatch_timeouts(clock.now + timedelta(seconds=1000)) == 0
    assert chain == [w[5].id, w[3].id, None]
    states = dict(DispatchOrder.objects.filter(case=scene).values_list("worker_id", "state"))
    assert states == {w[1].id: "expired", w[5].id: "expired", w[3].id: "expired"}
    assert Worker.objects.filter(pk__in=[w[1].id, w[3].id, w[5].id], state="busy").count() == 0
    assert "dispatch_unassigned" in Case.objects.get(pk=scene.pk).timeline.values_list("action", flat=True)
    assert events.data("dispatch.expired", topic=f"user.{w[1].id}")


def test_a_worker_cannot_answer_someone_elses_order(city, scene, events):
    with events.committing():
        order = dispatch_to(city, scene, city.workers[1])
    with pytest.raises(NotAllowed):
        dispatching.accept(order.id, city.workers[1].id, city.worker_actor(3))
