"""Every API route and every hub topic family and op, for every role: allowed, or refused with 401/403.

The tables below are the reviewed policy. A route in /api/openapi.json that the table does not list fails
the test, so a new endpoint cannot ship without someone deciding who may call it.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from websockets.asyncio.client import ClientConnection, connect

from dispatchd.actors import ROLES
from tests.city import square
from tests.realtime.servers import WallServer
from tests.security.conftest import JPEG, Scene
from wall.api import api

ANONYMOUS = "anonymous"
CALLERS = (ANONYMOUS, *ROLES)  # anonymous, wall, commander, worker, device, admin

# Who may call a route: outcome per caller. "ok" is any answer but 401/403 (the handler ran: 200, 201, 404,
# 409, 503 …); a worker calls with its own worker id and on the case dispatched to it.
POLICIES: dict[str, dict[str, str]] = {
    #               anonymous      wall         commander     worker       device       admin
    "readers": dict(anonymous="401", wall="ok", commander="ok", worker="ok", device="403", admin="ok"),
    "displays": dict(anonymous="401", wall="ok", commander="ok", worker="403", device="403", admin="ok"),
    "commanders": dict(anonymous="401", wall="403", commander="ok", worker="403", device="403", admin="ok"),
    "field": dict(anonymous="401", wall="403", commander="ok", worker="ok", device="403", admin="ok"),
    "reporters": dict(anonymous="401", wall="403", commander="ok", worker="ok", device="ok", admin="ok"),
    "sensors": dict(anonymous="401", wall="403", commander="ok", worker="403", device="ok", admin="ok"),
    "workers": dict(anonymous="401", wall="403", commander="403", worker="ok", device="403", admin="403"),
    "admins": dict(anonymous="401", wall="403", commander="403", worker="403", device="403", admin="ok"),
}

ROUTES: dict[str, str] = {
    "POST /api/positions": "reporters",
    "POST /api/sensors/readings": "sensors",
    "GET /api/workers": "readers",
    "GET /api/workers/{worker_id}/trail": "readers",
    "GET /api/sensors": "readers",
    "GET /api/cameras": "readers",
    "GET /api/alarms": "readers",
    "POST /api/alarms/{alarm_id}/acknowledge": "commanders",
    "POST /api/alarms/{alarm_id}/clear": "commanders",
    "GET /api/alarm-rules": "readers",
    "POST /api/cameras/{camera_id}/play": "readers",
    "DELETE /api/cameras/{camera_id}/play/{session}": "readers",
    "GET /api/cameras/streams": "readers",
    "GET /api/calls/config": "readers",
    "POST /api/calls": "commanders",
    "GET /api/calls": "readers",
    "GET /api/calls/{call_id}": "readers",
    "POST /api/calls/{call_id}/join": "readers",
    "POST /api/calls/{call_id}/accept": "readers",
    "POST /api/calls/{call_id}/decline": "readers",
    "POST /api/calls/{call_id}/hangup": "readers",
    "POST /api/calls/{call_id}/mute": "readers",
    "POST /api/calls/{call_id}/reconnect": "readers",
    "POST /api/calls/{call_id}/invite": "commanders",
    "POST /api/calls/{call_id}/cameras": "commanders",
    "DELETE /api/calls/{call_id}/participants/{participant}": "commanders",
    "POST /api/calls/{call_id}/record": "commanders",
    "POST /api/cases": "reporters",
    "GET /api/cases": "readers",
    "GET /api/cases/{case_id}": "readers",
    "GET /api/cases/{case_id}/timeline": "readers",
    "POST /api/cases/{case_id}/actions/{action}": "field",
    "POST /api/cases/{case_id}/attachments": "field",
    "GET /api/cases/{case_id}/attachments": "readers",
    "GET /api/attachments/{attachment_id}": "readers",
    "POST /api/incidents": "commanders",
    "GET /api/incidents": "readers",
    "GET /api/incidents/{incident_id}": "displays",
    "GET /api/incidents/{incident_id}/nearby": "displays",
    "POST /api/incidents/{incident_id}/dispatch-nearest": "commanders",
    "POST /api/incidents/{incident_id}/broadcast": "commanders",
    "GET /api/incidents/{incident_id}/broadcasts": "readers",
    "POST /api/incidents/{incident_id}/broadcasts/{broadcast_id}/read": "workers",
    "POST /api/incidents/{incident_id}/notes": "commanders",
    "POST /api/incidents/{incident_id}/stand-down": "commanders",
    "GET /api/incidents/{incident_id}/report": "displays",
    "GET /api/categories": "readers",
    "GET /api/departments": "readers",
    "GET /api/streets": "readers",
    "GET /api/grid.geojson": "readers",
    "GET /api/workers/nearest": "displays",
    "GET /api/workers/live": "readers",
    "GET /api/workers/{worker_id}/live": "readers",
    "POST /api/workers/{worker_id}/duty": "field",
    "GET /api/workers/{worker_id}/orders": "readers",
    "POST /api/workers/{worker_id}/orders/{order_id}/accept": "field",
    "POST /api/workers/{worker_id}/orders/{order_id}/decline": "field",
    "GET /api/workers/{worker_id}/patrol": "readers",
    "GET /api/geofences": "readers",
    "POST /api/geofences": "commanders",
    "GET /api/audit": "admins",
}

SCHEMA_ROUTES = sorted(
    f"{method.upper()} {path}" for path, item in api.get_openapi_schema()["paths"].items() for method in item
)


def test_every_route_of_the_schema_is_in_the_table_and_only_those():
    assert sorted(ROUTES) == SCHEMA_ROUTES, (
        f"not in the role table: {sorted(set(SCHEMA_ROUTES) - set(ROUTES))}; "
        f"no longer in the schema: {sorted(set(ROUTES) - set(SCHEMA_ROUTES))}"
    )


def _now() -> str:
    return datetime.now(UTC).isoformat()


SDP = {"sdp": "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n", "type": "offer"}


def request_for(scene: Scene, route: str) -> tuple[str, str, Any]:
    """(method, address, body) of a request to `route` that is valid apart from the caller's role."""
    method, template = route.split(" ", 1)
    lat, lon = scene.city.point_in(0)
    params = {
        "worker_id": scene.worker.id, "case_id": scene.case.id, "action": "handle", "alarm_id": scene.alarm.id,
        "camera_id": scene.camera.id, "session": "no-such-session", "call_id": "no-such-call",
        "participant": "worker:1", "attachment_id": scene.attachment.id, "incident_id": scene.incident.id,
        "broadcast_id": scene.broadcast_id, "order_id": scene.order.id,
    }
    path = template.format(**params)
    bodies: dict[str, Any] = {
        "POST /api/positions": {"items": [{"worker_id": scene.worker.id, "lat": lat, "lon": lon, "at": _now()}]},
        "POST /api/sensors/readings": {"items": [{"sensor": "S-1", "at": _now(), "value": 1}]},
        "POST /api/cameras/{camera_id}/play": SDP,
        "POST /api/calls": {"kind": "call", "invite": [{"worker_id": scene.worker.id}], **SDP},
        "POST /api/calls/{call_id}/join": SDP,
        "POST /api/calls/{call_id}/accept": SDP,
        "POST /api/calls/{call_id}/reconnect": SDP,
        "POST /api/calls/{call_id}/invite": {"invite": [{"worker_id": scene.worker.id}]},
        "POST /api/calls/{call_id}/cameras": {"camera_id": scene.camera.id},
        "POST /api/calls/{call_id}/record": {"on": True},
        "POST /api/cases": {"title": "井盖缺失", "category": "0201", "lat": lat, "lon": lon},
        "POST /api/cases/{case_id}/actions/{action}": {"note": "到场"},
        "POST /api/cases/{case_id}/attachments": {"file": SimpleUploadedFile("p.jpg", JPEG, "image/jpeg")},
        "POST /api/incidents": {"title": "内涝", "lat": lat, "lon": lon, "category": "0101"},
        "POST /api/incidents/{incident_id}/dispatch-nearest": {"n": 1},
        "POST /api/incidents/{incident_id}/broadcast": {"ring_m": 1000, "text": "集合"},
        "POST /api/incidents/{incident_id}/notes": {"text": "现场已封控"},
        "POST /api/workers/{worker_id}/duty": {"duty": "on_duty"},
        "POST /api/geofences": {"name": "工地", "polygon": square(lon, lat, 0.001)},
    }
    queries = {"GET /api/workers/nearest": f"?lat={lat}&lon={lon}"}
    return method, path + queries.get(route, ""), bodies.get(route, {} if method in ("POST", "PUT") else None)


def call(scene: Scene, role: str, route: str) -> int:
    """The status of `route` called as `role`."""
    method, path, body = request_for(scene, route)
    client = scene.client(role).client
    if route.endswith("/attachments") and method == "POST":
        return client.post(path, body).status_code
    if body is None:
        return client.generic(method, path).status_code
    return client.generic(method, path, json.dumps(body), content_type="application/json").status_code


@pytest.mark.parametrize("role", CALLERS)
@pytest.mark.parametrize("route", sorted(ROUTES))
def test_the_route_answers_the_role_as_the_table_says(scene: Scene, route: str, role: str):
    status = call(scene, role, route)
    expected = POLICIES[ROUTES[route]][role]
    outcome = str(status) if status in (401, 403) else "ok"
    assert outcome == expected, f"{route} as {role}: {status}, the table says {expected}"
    assert status < 500, f"{route} as {role}: {status}"


# ---- the hub ---------------------------------------------------------------------------------------------------

# Topic families × caller: "subscribed" or the error code of the refusal.
TOPICS: dict[str, dict[str, str]] = {
    #                  anonymous                    wall               commander          worker
    #                  device                       admin
    "cases": dict(anonymous="unauthenticated", wall="subscribed", commander="subscribed", worker="forbidden",
                  device="forbidden", admin="subscribed"),
    "positions": dict(anonymous="unauthenticated", wall="subscribed", commander="subscribed", worker="forbidden",
                      device="forbidden", admin="subscribed"),
    "sensors": dict(anonymous="unauthenticated", wall="subscribed", commander="subscribed", worker="forbidden",
                    device="forbidden", admin="subscribed"),
    "alarms": dict(anonymous="unauthenticated", wall="subscribed", commander="subscribed", worker="forbidden",
                   device="forbidden", admin="subscribed"),
    "cameras": dict(anonymous="unauthenticated", wall="subscribed", commander="subscribed", worker="forbidden",
                    device="forbidden", admin="subscribed"),
    "incidents": dict(anonymous="unauthenticated", wall="subscribed", commander="subscribed", worker="subscribed",
                      device="forbidden", admin="subscribed"),
    "incident.{id}": dict(anonymous="unauthenticated", wall="subscribed", commander="subscribed",
                          worker="subscribed", device="forbidden", admin="subscribed"),
    "user.{own}": dict(anonymous="unauthenticated", wall="forbidden", commander="forbidden", worker="subscribed",
                       device="forbidden", admin="subscribed"),
    "user.{other}": dict(anonymous="unauthenticated", wall="forbidden", commander="forbidden", worker="forbidden",
                         device="forbidden", admin="subscribed"),
    "call.{id}": dict(anonymous="unauthenticated", wall="forbidden", commander="subscribed", worker="subscribed",
                      device="forbidden", admin="subscribed"),
    "department.{id}": dict(anonymous="unauthenticated", wall="forbidden", commander="subscribed",
                            worker="forbidden", device="forbidden", admin="subscribed"),
    "other": dict(anonymous="unauthenticated", wall="forbidden", commander="forbidden", worker="forbidden",
                  device="forbidden", admin="subscribed"),
}

# Client ops × caller: the reply's op, or the error code. A worker publishes only its own position.
OPS: dict[str, dict[str, str]] = {
    "ping": dict(anonymous="pong", wall="pong", commander="pong", worker="pong", device="pong", admin="pong"),
    "position": dict(anonymous="unauthenticated", wall="forbidden", commander="forbidden", worker="ack",
                     device="forbidden", admin="forbidden"),
    "positions": dict(anonymous="unauthenticated", wall="forbidden", commander="forbidden", worker="ack",
                      device="forbidden", admin="forbidden"),
    "unsubscribe": dict(anonymous="unauthenticated", wall="not_subscribed", commander="not_subscribed",
                        worker="not_subscribed", device="not_subscribed", admin="not_subscribed"),
    "auth": dict(anonymous="unauthenticated", wall="bad_request", commander="bad_request", worker="bad_request",
                 device="bad_request", admin="bad_request"),
}


def _topic(family: str, tokens: dict, n: int) -> str:
    """A concrete topic of the family, fresh per use so replays stay empty."""
    names = {
        "incident.{id}": f"incident.t{n}", "user.{own}": f"user.{tokens['worker_id']}",
        "user.{other}": f"user.{tokens['other_worker_id']}", "call.{id}": f"call.t{n}",
        "department.{id}": f"department.{n}", "other": "metrics",
    }
    return names.get(family, family)


def _op_frame(op: str) -> dict:
    fix = {"lat": 22.71, "lon": 114.31, "at": _now()}
    frames = {
        "position": {"op": "position", "id": "p", **fix},
        "positions": {"op": "positions", "id": "ps", "items": [fix]},
        "unsubscribe": {"op": "unsubscribe", "topic": "alarms"},
        "auth": {"op": "auth", "token": "wt_again"},
    }
    return frames.get(op, {"op": op})


async def _reply(ws: ClientConnection) -> dict:
    """The next frame that answers the client (server pings are answered, position batches skipped)."""
    async with asyncio.timeout(10):
        while True:
            message = json.loads(await ws.recv())
            if message["op"] == "ping" and "n" in message:
                await ws.send(json.dumps({"op": "pong", "n": message["n"]}))
            elif message["op"] != "batch":
                return message


def _outcome(reply: dict) -> str:
    return reply["code"] if reply["op"] == "error" else reply["op"]


async def _connect(server: WallServer, tokens: dict, role: str) -> ClientConnection:
    query = "" if role == ANONYMOUS else f"?token={tokens[role]}"
    ws = await connect(f"{server.ws_url}{query}", origin=f"http://127.0.0.1:{server.port}", max_size=None)
    if role != ANONYMOUS:
        assert (await _reply(ws))["op"] == "hello"
    return ws


def test_the_hub_tables_name_every_role():
    assert all(set(row) == set(CALLERS) for row in [*TOPICS.values(), *OPS.values()])


@pytest.mark.parametrize("role", CALLERS)
@pytest.mark.parametrize("family", sorted(TOPICS))
async def test_the_hub_subscribes_the_role_as_the_table_says(
    server: WallServer, tokens: dict, family: str, role: str
) -> None:
    topic = _topic(family, tokens, abs(hash((family, role))) % 10**6)
    ws = await _connect(server, tokens, role)
    try:
        await ws.send(json.dumps({"op": "subscribe", "topic": topic}))
        reply = await _reply(ws)
        assert _outcome(reply) == TOPICS[family][role], f"{topic} as {role}: {reply}"
        if reply["op"] == "subscribed":
            assert reply["topic"] == topic
    finally:
        await ws.close()


@pytest.mark.parametrize("role", CALLERS)
@pytest.mark.parametrize("op", sorted(OPS))
async def test_the_hub_answers_each_op_as_the_table_says(server: WallServer, tokens: dict, op: str, role: str) -> None:
    ws = await _connect(server, tokens, role)
    try:
        await ws.send(json.dumps(_op_frame(op)))
        reply = await _reply(ws)
        assert _outcome(reply) == OPS[op][role], f"{op} as {role}: {reply}"
    finally:
        await ws.close()


@pytest.mark.parametrize(
    ("route", "role", "body"),
    [
        ("GET /api/audit?limit=0", "commander", None),
        ("POST /api/incidents", "wall", {"level": "not a level", "rings_m": "x"}),
        ("POST /api/incidents/{incident_id}/broadcast", "worker", {"ring_m": -1}),
        ("POST /api/incidents/{incident_id}/broadcasts/{broadcast_id}/read", "commander", None),
        ("GET /api/workers/nearest?lat=north&lon=", "worker", None),
    ],
)
def test_a_role_gated_route_refuses_the_role_before_it_looks_at_the_input(scene: Scene, route, role, body):
    method, template = route.split(" ", 1)
    path = template.format(incident_id=scene.incident.id, broadcast_id=scene.broadcast_id)
    client = scene.client(role).client
    if body is None:
        response = client.generic(method, path)
    else:
        response = client.generic(method, path, json.dumps(body), content_type="application/json")
    assert (response.status_code, response.json()["error"]) == (403, "forbidden")
