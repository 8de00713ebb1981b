"""The war room's domain: declare, nearby by ring (roaming), dispatch nearest N, broadcast, arrival, report."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from dispatchd import dispatching
from dispatchd.errors import InvalidInput, TransitionRefused
from dispatchd.incidents import broadcast as broadcasts
from dispatchd.incidents import command
from dispatchd.incidents.dispatch import dispatch_nearest
from dispatchd.incidents.nearby import nearby
from dispatchd.incidents.report import report
from dispatchd.models import DispatchOrder, IncidentAction, OrderState
from tests.dispatchd.helpers import report as report_case
from tests.incidents.conftest import walk


def declare(city, events, **fields):
    """Declare an incident on a fresh case in cell 0, committed."""
    case = report_case(city, cell=0, title="燃气泄漏")
    with events.committing():
        return command.declare(command.Declaration(case_id=case.id, commander="张指挥", **fields), city.commander)


def test_declaring_from_a_case_centres_the_incident_and_announces_it(city, scene, events):
    incident = declare(city, events, level=1)
    assert (incident.lat, incident.lon, incident.rings_m) == (scene.lat, scene.lon, [500, 1000, 3000])
    assert incident.case.title == "燃气泄漏" and incident.commander == "张指挥"
    assert events.data("incident.declared", "incidents")[0]["id"] == incident.id
    assert events.types(f"incident.{incident.id}") == ["incident.action", "incident.declared"]
    assert list(incident.actions.values_list("kind", flat=True)) == ["declared"]


def test_declaring_directly_opens_a_major_case_for_the_incident(city, scene, events):
    with events.committing():
        incident = command.declare(command.Declaration(
            title="化工厂火灾", lat=scene.lat, lon=scene.lon, category="0101", rings_m=[3000, 500],
        ), city.commander)
    assert incident.case.severity == "major" and incident.case.urgent
    assert incident.rings_m == [500, 3000]
    with pytest.raises(InvalidInput) as refused:
        command.declare(command.Declaration(title="缺位置"), city.commander)
    assert set(refused.value.detail) == {"lat", "lon", "category"}


def test_nearby_lists_everything_inside_the_outer_ring_by_ring(city, scene, events):
    found = nearby(declare(city, events))
    rings = {w["worker_id"]: w["ring_m"] for w in found["workers"]}
    w = city.workers
    assert rings == {w[0].id: 500, w[1].id: 500, w[2].id: 1000, w[3].id: 3000, w[4].id: 3000}
    assert [c["name"] for c in found["cameras"]] == ["路口摄像机"]
    assert [(s["name"], s["ring_m"]) for s in found["sensors"]] == [("燃气监测", 1000)]
    assert [(r["name"], r["ring_m"]) for r in found["resources"]] == [("消防栓 H-12", 500), ("第一中学避难场所", 3000)]


def test_nearby_follows_workers_as_they_cross_the_rings(city, scene, events):
    incident = declare(city, events)
    w = city.workers
    walk(scene, events, {w[5]: 900, w[0]: 3500}, seconds=10)  # one walks in, one walks out
    rings = {x["worker_id"]: x["ring_m"] for x in nearby(incident)["workers"]}
    assert rings[w[5].id] == 1000 and w[0].id not in rings


def test_dispatch_nearest_sends_n_orders_on_the_workers_user_topics(city, scene, events):
    incident = declare(city, events)
    events.clear()
    with events.committing():
        orders = dispatch_nearest(incident.id, 3, city.commander)
    w = city.workers
    assert [o["worker_id"] for o in orders] == [w[0].id, w[1].id, w[2].id]
    for worker in w[:3]:
        assert len(events.data("dispatch.order", f"user.{worker.id}")) == 1
    assert DispatchOrder.objects.filter(case=incident.case, state=OrderState.OFFERED).count() == 3
    with events.committing():
        more = dispatch_nearest(incident.id, 2, city.commander)
    assert [o["worker_id"] for o in more] == [w[3].id, w[4].id]  # the first three are busy and already sent
    assert list(incident.actions.values_list("kind", flat=True)) == ["declared", "dispatch", "dispatch"]


def test_acknowledgements_of_the_orders_reach_the_incident_timeline(city, scene, events):
    incident = declare(city, events)
    with events.committing():
        first, second = dispatch_nearest(incident.id, 2, city.commander)
    events.clear()
    with events.committing():
        dispatching.accept(first["id"], first["worker_id"], city.worker_actor(0))
        dispatching.decline(second["id"], second["worker_id"], city.worker_actor(1), "在处置别的案件")
    acks = [a["data"] for a in events.data("incident.action", f"incident.{incident.id}") if a["kind"] == "ack"]
    assert [(a["worker_id"], a["accepted"]) for a in acks] == [(first["worker_id"], True), (second["worker_id"], False)]


def test_a_declined_or_expired_incident_order_passes_to_the_next_nearest_worker(city, scene, events, clock):
    incident = declare(city, events)
    w = city.workers
    with events.committing():
        first, second = dispatch_nearest(incident.id, 2, city.commander)
    with events.committing():
        dispatching.decline(first["id"], first["worker_id"], city.worker_actor(0), "车辆故障")
    offered = DispatchOrder.objects.filter(case=incident.case, state=OrderState.OFFERED)
    assert sorted(offered.values_list("worker_id", flat=True)) == [w[1].id, w[2].id]  # w[2] replaces w[0]
    assert len(events.data("dispatch.order", f"user.{w[2].id}")) == 1

    with events.committing():
        assert dispatching.check_dispatch_timeouts(clock.now + timedelta(hours=1)) == 2  # w[1] and w[2] time out
    assert sorted(DispatchOrder.objects.filter(case=incident.case, state=OrderState.OFFERED)
                  .values_list("worker_id", flat=True)) == [w[3].id, w[4].id]
    fallbacks = [a for a in incident.actions.filter(kind="dispatch") if "replaces" in a.data]
    assert [(a.data["replaces"]["worker_id"], a.data["reason"], a.data["orders"][0]["worker_id"]) for a in fallbacks] \
        == [(w[0].id, "declined", w[2].id), (w[1].id, "timeout", w[3].id), (w[2].id, "timeout", w[4].id)]
    assert incident.responders.count() == 5


def test_broadcast_reaches_exactly_the_workers_inside_the_ring(city, scene, events):
    incident = declare(city, events)
    events.clear()
    with events.committing():
        item = broadcasts.broadcast(incident.id, 1000, "立即疏散周边群众", city.commander)
    w = city.workers
    reached = {t for t, e in events.published if e["type"] == "incident.broadcast"}
    assert reached == {f"user.{w[i].id}" for i in (0, 1, 2)}
    assert sorted(item.receipts.values_list("worker_id", flat=True)) == sorted(w[i].id for i in (0, 1, 2))
    with pytest.raises(InvalidInput):
        broadcasts.broadcast(incident.id, 700, "不是事件的圈", city.commander)


def test_a_worker_marks_a_broadcast_read_once(city, scene, events, clock):
    incident = declare(city, events)
    item = broadcasts.broadcast(incident.id, 500, "封锁路口", city.commander)
    first = broadcasts.mark_read(incident.id, item.id, city.worker_actor(0))
    clock.advance(seconds=30)
    again = broadcasts.mark_read(incident.id, item.id, city.worker_actor(0))
    assert first.read_at == again.read_at
    assert broadcasts.broadcast_dict(item)["read"] == 1
    assert IncidentAction.objects.filter(incident=incident, kind="broadcast_read").count() == 1
    with pytest.raises(Exception, match="no broadcast"):
        broadcasts.mark_read(incident.id, item.id, city.worker_actor(3))  # 1.5 km away: not sent to it


def test_arrival_is_the_first_position_inside_the_inner_ring(city, scene, events, clock):
    incident = declare(city, events)
    w = city.workers
    with events.committing():
        dispatch_nearest(incident.id, 3, city.commander)
    walk(scene, events, {w[2]: 450}, seconds=60)  # 700 m → 450 m: inside 500 m
    walk(scene, events, {w[2]: 100}, seconds=90)  # later fixes do not move the arrival
    responders = {r["worker_id"]: r for r in report(incident.id)["responders"]}
    assert datetime.fromisoformat(responders[w[2].id]["arrived_at"]) == scene.at + timedelta(seconds=60)
    assert responders[w[0].id]["arrived_at"] is None  # inside already, but no fix since the dispatch
    assert IncidentAction.objects.filter(incident=incident, kind="arrival").count() == 1


def test_stand_down_ends_the_incident_once(city, scene, events):
    incident = declare(city, events)
    with events.committing():
        command.stand_down(incident.id, city.commander, "险情排除")
    assert events.types("incidents") == ["incident.declared", "incident.stood_down"]
    with pytest.raises(TransitionRefused):
        command.stand_down(incident.id, city.commander)
    with pytest.raises(TransitionRefused):
        dispatch_nearest(incident.id, 1, city.commander)


def test_the_report_lists_every_action_responders_and_response_times(city, scene, events, clock):
    incident = declare(city, events)
    w = city.workers
    with events.committing():
        orders = dispatch_nearest(incident.id, 2, city.commander)
    clock.advance(seconds=20)
    with events.committing():
        dispatching.accept(orders[0]["id"], orders[0]["worker_id"], city.worker_actor(0))
        broadcasts.broadcast(incident.id, 500, "封锁路口", city.commander)
        command.note(incident.id, city.commander, "消防到场")
    walk(scene, events, {w[0]: 50, w[1]: 200}, seconds=90)
    with events.committing():
        command.stand_down(incident.id, city.commander)
    data = report(incident.id)
    kinds = [a["kind"] for a in data["timeline"]]
    assert sorted(kinds) == sorted(["declared", "dispatch", "ack", "broadcast", "note", "arrival", "arrival",
                                    "stood_down"])
    assert data["stats"]["dispatched"] == 2 and data["stats"]["accepted"] == 1 and data["stats"]["arrived"] == 2
    assert data["stats"]["acknowledgement"]["count"] == 1 and data["stats"]["acknowledgement"]["max_s"] == 20
    assert data["stats"]["arrival"]["count"] == 2
    assert [r["arrival_s"] for r in data["responders"]] == [60.0, 60.0]  # fixes at scene.at + 90 s = dispatch + 60 s
