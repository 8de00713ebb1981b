"""The audit log: every dispatch action, incident action, login and token change; read-only for everyone."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.db import DatabaseError, connection, transaction
from django.test import Client

from dispatchd import dispatching, workflow
from dispatchd.errors import TransitionRefused
from dispatchd.field import pipeline
from dispatchd.incidents import command
from dispatchd.models import AuditEntry, CaseStatus, DispatchOrder, OrderState
from tests.dispatchd.helpers import ROUTE, act, case_in, report
from tests.field.conftest import fix
from wall.cli import main
from wall.models import ApiToken

M_LAT = 1 / 110_750  # degrees of latitude per metre


def trail(target: str) -> list[tuple[str, str, str]]:
    """(role, actor, action) of the entries about `target`, oldest first."""
    return list(AuditEntry.objects.filter(target=target).order_by("id").values_list("role", "actor", "action"))


def test_every_case_action_is_audited_with_who_and_the_transition(city):
    case = case_in(city, CaseStatus.EVALUATED)
    expected = [("commander", "duty1", f"case.{name}") for name in ROUTE[CaseStatus.EVALUATED]]
    assert trail(f"case:{case.id}") == expected
    close = AuditEntry.objects.get(target=f"case:{case.id}", action="case.close")
    assert (close.detail["from_status"], close.detail["to_status"], close.detail["number"]) == (
        "verified", "closed", case.number
    )


def test_a_refused_action_writes_nothing(city):
    case = report(city)
    with pytest.raises(TransitionRefused):
        act(city, case, "close")
    assert trail(f"case:{case.id}") == []


def test_an_action_whose_transaction_rolls_back_leaves_no_entry(city):
    case = report(city)
    with pytest.raises(RuntimeError), transaction.atomic():
        workflow.perform(case.pk, "accept", city.commander, {})
        assert trail(f"case:{case.id}") == [("commander", "duty1", "case.accept")]
        raise RuntimeError("a later step of the same request failed")
    assert trail(f"case:{case.id}") == []


def test_an_action_through_the_api_is_audited_with_the_callers_address(city, commander):
    case = report(city)
    assert commander.act(case.id, "accept").status_code == 200
    entry = AuditEntry.objects.get(target=f"case:{case.id}")
    assert (entry.role, entry.actor, entry.action, entry.ip) == ("commander", "test-commander", "case.accept",
                                                                 "127.0.0.1")


@pytest.fixture
def registered(city, clock, events):
    """A registered case in cell 0 with ENV workers W1 (100 m), W5 (300 m) and W3 (600 m) north of it."""
    case = act(city, act(city, report(city, cell=0), "accept"), "register", note="立案")
    w = city.workers
    with events.committing():
        at = clock.now - timedelta(seconds=5)
        pipeline.ingest([fix(worker, case.lat + m * M_LAT, case.lon, at) for worker, m in
                         {w[1]: 100, w[5]: 300, w[3]: 600}.items()])
    return case


def test_every_dispatch_order_change_is_audited(city, registered, clock):
    w = city.workers
    workflow.perform(registered.pk, "dispatch", city.commander, {"worker": w[1].id})
    first = DispatchOrder.objects.get(case=registered, worker=w[1])
    dispatching.decline(first.id, w[1].id, city.worker_actor(1), "在处理另一单")
    second = DispatchOrder.objects.get(case=registered, worker=w[5])
    dispatching.check_dispatch_timeouts(clock.advance(hours=1))
    third = DispatchOrder.objects.get(case=registered, worker=w[3])
    dispatching.accept(third.id, w[3].id, city.worker_actor(3))
    orders = AuditEntry.objects.filter(action__startswith="order.").order_by("id")
    assert [(e.action, e.target, e.role, e.actor) for e in orders] == [
        ("order.offered", f"order:{first.id}", "system", "dispatchd"),
        ("order.declined", f"order:{first.id}", "worker", "W1"),
        ("order.fallback", f"order:{first.id}", "system", "dispatchd"),
        ("order.offered", f"order:{second.id}", "system", "dispatchd"),
        ("order.expired", f"order:{second.id}", "system", "dispatchd"),
        ("order.fallback", f"order:{second.id}", "system", "dispatchd"),
        ("order.offered", f"order:{third.id}", "system", "dispatchd"),
        ("order.accepted", f"order:{third.id}", "worker", "W3"),
    ]
    assert DispatchOrder.objects.get(pk=third.id).state == OrderState.ACCEPTED
    assert orders[1].detail == {"case": registered.id, "worker": w[1].id, "attempt": 1, "note": "在处理另一单"}


def test_incident_actions_are_audited(city):
    lat, lon = city.point_in(1)
    declaration = command.Declaration(title="燃气泄漏", lat=lat, lon=lon, category=city.categories["litter"].id)
    incident = command.declare(declaration, city.commander)
    command.stand_down(incident.id, city.admin, "险情解除")
    assert trail(f"incident:{incident.id}") == [
        ("commander", "duty1", "incident.declared"), ("admin", "root", "incident.stood_down"),
    ]


@pytest.fixture
def duty_user(db) -> User:
    """A superuser who may log into the admin."""
    return User.objects.create_superuser("duty", password="correct horse")


def test_logins_failures_and_logouts_are_audited(duty_user):
    client = Client()
    client.post("/admin/login/", {"username": "duty", "password": "wrong"})
    assert client.post("/admin/login/", {"username": "duty", "password": "correct horse"}).status_code == 302
    assert client.post("/admin/logout/").status_code == 200
    entries = AuditEntry.objects.filter(target="user:duty").order_by("id")
    assert [(e.action, e.role, e.ip) for e in entries] == [
        ("login.failed", "", "127.0.0.1"), ("login", "admin", "127.0.0.1"), ("logout", "admin", "127.0.0.1"),
    ]
    assert "password" not in str(entries[0].detail)


def test_a_token_prefix_never_begins_with_a_dash_so_it_can_be_revoked_by_prefix(db, capsys, monkeypatch):
    bodies = iter(["-_9pI7A_m-27Sc2rzu0ODG9cBWjgfTEqCE_qGRQwxCE", "Xq_9pI7A_m-27Sc2rzu0ODG9cBWjgfTEqCE_qGRQwxC"])
    monkeypatch.setattr("wall.auth.secrets.token_urlsafe", lambda n: next(bodies))
    assert main(["token", "create", "--role", "wall", "--name", "screen-7"]) == 0
    token = ApiToken.objects.get(name="screen-7")
    assert token.prefix == "Xq_9pI"
    assert main(["token", "revoke", token.prefix]) == 0
    assert ApiToken.objects.get(name="screen-7").revoked_at is not None


def test_token_creation_and_revocation_are_audited(db, capsys):
    assert main(["token", "create", "--role", "wall", "--name", "screen-9"]) == 0
    token = ApiToken.objects.get(name="screen-9")
    assert main(["token", "revoke", token.prefix]) == 0
    assert trail(f"token:{token.id}") == [("system", "cli", "token.create"), ("system", "cli", "token.revoke")]
    assert AuditEntry.objects.get(action="token.create").detail == {
        "name": "screen-9", "role": "wall", "prefix": token.prefix, "worker": None,
    }


def test_the_database_refuses_to_change_an_entry(city):
    case_in(city, CaseStatus.ACCEPTED)
    entry = AuditEntry.objects.get()
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).update(actor="someone else")
    if connection.vendor == "postgresql":  # SQLite keeps DELETE for Django's flush (see migration 0005)
        with pytest.raises(DatabaseError), transaction.atomic():
            AuditEntry.objects.filter(pk=entry.pk).delete()
    assert AuditEntry.objects.get().actor == "duty1"


def test_an_admin_reads_the_log_but_cannot_add_change_or_delete(city, duty_user):
    case = case_in(city, CaseStatus.ACCEPTED)
    entry = AuditEntry.objects.get()
    client = Client()
    client.force_login(duty_user)
    listing = client.get("/admin/dispatchd/auditentry/", {"q": f"case:{case.id}"})
    assert listing.status_code == 200 and f"case:{case.id}" in listing.content.decode()
    assert client.get("/admin/dispatchd/auditentry/", {"action": "case.accept"}).status_code == 200
    assert client.get("/admin/dispatchd/auditentry/add/").status_code == 403
    assert client.post(f"/admin/dispatchd/auditentry/{entry.pk}/change/", {"actor": "x"}).status_code == 403
    assert client.post(f"/admin/dispatchd/auditentry/{entry.pk}/delete/", {"post": "yes"}).status_code == 403
    assert AuditEntry.objects.get(pk=entry.pk).actor == "duty1"


def test_the_audit_api_filters_for_admins(city, api_as):
    case = case_in(city, CaseStatus.REGISTERED)
    other = report(city)
    admin = api_as("admin")
    got = admin.get("audit", {"target": f"case:{case.id}"}).json()
    assert [e["action"] for e in got] == ["case.register", "case.accept"]  # newest first
    assert {e["action"] for e in admin.get("audit", {"action": "token"}).json()} == {"token.create"}
    assert admin.get("audit", {"action": "case.accept", "limit": 1}).json()[0]["target"] == f"case:{case.id}"
    assert admin.get("audit", {"actor": "nobody"}).json() == []
    assert admin.get("audit", {"since": "2999-01-01T00:00:00Z"}).json() == []
    assert admin.get("audit", {"limit": 0}).status_code == 400
    assert all(e["target"] != f"case:{other.id}" for e in admin.get("audit", {"action": "case"}).json())
    assert api_as("commander").get("audit").status_code == 403
