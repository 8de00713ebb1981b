"""The call API over HTTP: roles, invitations on the hub, offer/answer, hang-up, and recordings on the case."""

from __future__ import annotations

import json

import pytest
from asgiref.sync import sync_to_async
from django.test import AsyncClient

from dispatchd.models import CaseEvent
from realtime import backend
from tests.calls.client import Peer
from tests.dispatchd.helpers import report
from tests.gb28181.conftest import eventually
from wall.auth import create_token

pytestmark = pytest.mark.django_db(transaction=True)


class Api:
    """AsyncClient with a bearer token and JSON bodies."""

    def __init__(self, token: str) -> None:
        self.client, self.headers = AsyncClient(), {"Authorization": f"Bearer {token}"}

    async def post(self, path: str, body: dict | None = None):
        return await self.client.post(f"/api/{path}", json.dumps(body or {}), content_type="application/json",
                                      headers=self.headers)

    async def get(self, path: str):
        return await self.client.get(f"/api/{path}", headers=self.headers)


def hub_events(topic: str) -> list[dict]:
    """Every event published on `topic` (in-process streams)."""
    page = backend.sync_streams().read(topic, 0, 1000)
    return [json.loads(event.frame) for event in page.events]


@pytest.fixture
async def people(city):
    worker = city.workers[0]
    commander = Api(await sync_to_async(create_token)("commander", "duty"))
    field = Api(await sync_to_async(create_token)("worker", worker.code, worker.id))
    stranger = Api(await sync_to_async(create_token)("worker", "w2", city.workers[1].id))
    return commander, field, stranger, worker


async def test_a_call_rings_on_the_hub_is_answered_and_hung_up(calls, people):
    commander, field, _, worker = people
    caller, callee = Peer(slots=1), Peer(size=(256, 192), slots=1)
    try:
        created = await commander.post("calls", {"kind": "call", "invite": [{"worker_id": worker.id}],
                                                 "sdp": await caller.offer()})
        assert created.status_code == 201, created.content
        body = created.json()
        await caller.apply(body)
        call_id = body["call"]["id"]
        assert body["call"]["state"] == "ringing"
        await eventually(lambda: any(e["type"] == "call.invite" for e in hub_events(f"user.{worker.id}")))
        invite = next(e for e in hub_events(f"user.{worker.id}") if e["type"] == "call.invite")["data"]
        assert invite["call"] == call_id and invite["from"] == "duty"

        accepted = await field.post(f"calls/{call_id}/accept", {"sdp": await callee.offer()})
        assert accepted.status_code == 200, accepted.content
        await callee.apply(accepted.json())
        await eventually(lambda: len(callee.from_size((320, 240)).counters) > 5
                         and len(caller.from_size((256, 192)).counters) > 5)

        hung_up = await field.post(f"calls/{call_id}/hangup")
        assert hung_up.json()["state"] == "ended" and hung_up.json()["reason"] == "hangup"
        assert (await commander.get(f"calls/{call_id}")).json()["state"] == "ended"
        await eventually(lambda: hub_events(f"call.{call_id}")[-1]["data"]["state"] == "ended")
    finally:
        await caller.close()
        await callee.close()


async def test_refusals_are_json_errors(calls, people):
    commander, field, stranger, worker = people
    caller, other = Peer(slots=1), Peer(slots=1)
    try:
        assert (await field.post("calls", {"invite": [{"worker_id": worker.id}]})).status_code == 403
        bad = await commander.post("calls", {"invite": [{"worker_id": worker.id}], "sdp": "v=0\r\nnonsense"})
        assert (bad.status_code, bad.json()["error"]) == (400, "bad_offer")
        missing = await commander.post("calls", {"invite": [{"worker_id": 999_999}], "sdp": await caller.offer()})
        assert missing.status_code == 404
        created = await commander.post("calls", {"invite": [{"worker_id": worker.id}], "sdp": await caller.offer()})
        call_id = created.json()["call"]["id"]
        busy = await commander.post("calls", {"invite": [{"worker_id": worker.id}], "sdp": await other.offer()})
        assert (busy.status_code, busy.json()["error"]) == (409, "busy")
        assert (await stranger.post(f"calls/{call_id}/accept", {"sdp": await other.offer()})).status_code == 404
        assert (await stranger.get(f"calls/{call_id}")).status_code == 404
        assert (await commander.get("calls/nope")).status_code == 404
    finally:
        await caller.close()
        await other.close()


async def test_a_recorded_session_of_a_case_is_listed_on_its_timeline(calls, people, city):
    commander, field, _, worker = people
    case = await sync_to_async(report)(city)
    first, second = Peer(slots=1), Peer(size=(256, 192), slots=1)
    try:
        created = await commander.post("calls", {"kind": "session", "invite": [{"worker_id": worker.id}],
                                                 "case_id": case.id, "record": True, "sdp": await first.offer()})
        await first.apply(created.json())
        call_id = created.json()["call"]["id"]
        await second.apply((await field.post(f"calls/{call_id}/accept", {"sdp": await second.offer()})).json())
        await eventually(lambda: len(first.from_size((256, 192)).counters) > 10)
        assert (await commander.post(f"calls/{call_id}/hangup", {"all": True})).json()["state"] == "ended"

        await eventually(lambda: len(calls.tasks) == 0)  # the timeline entry is written in the background
        (entry,) = await sync_to_async(list)(CaseEvent.objects.filter(case=case, action="recording"))
        assert entry.data["call"] == call_id
        assert {(f["kind"], f["codec"]) for f in entry.data["files"]} == {("video", "h264"), ("audio", "opus")}
        assert all(f["path"].startswith(f"recordings/{call_id}/") for f in entry.data["files"])
    finally:
        await first.close()
        await second.close()
