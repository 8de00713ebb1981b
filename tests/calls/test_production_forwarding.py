"""The production layout: a `web` process forwards the call API to the `sip` process that holds the media.

Two real processes on one data dir and one Redis: `wall sip` (relay, call forwarding, its own HTTP port) and
`wall serve` with WALL_GB_RELAY_URL pointing at it. The commander and the worker only ever talk to `web`:
the invitation reaches the worker on the web process's hub, the offers and answers are forwarded, and the
media flows between the peers and the sip process.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
from pathlib import Path

import httpx
import pytest
import websockets

from bench.procs import stop_process
from tests.calls.client import Peer
from tests.gb28181.conftest import eventually
from tests.realtime.servers import ROOT, WALL, WallServer, free_port, prepare_data_dir, wait_port


class SipProcess:
    """A `wall sip` subprocess serving its HTTP API on a free port."""

    def __init__(self, data_dir: Path, redis_url: str) -> None:
        self.http_port = free_port()
        env = dict(os.environ, WALL_DATA_DIR=str(data_dir), REDIS_URL=redis_url,
                   WALL_GB_HTTP_PORT=str(self.http_port), WALL_GB_SIP_PORT=str(free_port()),
                   WALL_GB_ICE_HOSTS="127.0.0.1")
        env.pop("DATABASE_URL", None)
        self.log = data_dir / "sip.log"
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen([WALL, "sip"], env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_port(self.http_port, self.proc)
        except RuntimeError as exc:
            self.stop()
            raise RuntimeError(f"wall sip failed: {exc}\n{self.log.read_text()[-3000:]}") from exc

    def stop(self) -> None:
        """Terminate, then kill."""
        stop_process(self.proc)


@pytest.fixture
def layout(tmp_path, redis_url):
    """`sip` and `web` on one data dir and Redis; yields (web, tokens)."""
    tokens = prepare_data_dir(tmp_path)
    sip = SipProcess(tmp_path, redis_url)
    web = WallServer(tmp_path, redis_url, WALL_GB_RELAY_URL=f"http://127.0.0.1:{sip.http_port}")
    try:
        web.start()
        yield web, tokens
    finally:
        web.stop()
        sip.stop()


async def _invitations(ws_url: str, token: str, worker_id: int, seen: list[dict]) -> None:
    """Collect the events on the worker's own topic, as the field page does."""
    async with websockets.connect(f"{ws_url}?token={token}", origin=ws_url.replace("ws://", "http://")) as ws:
        await ws.send(json.dumps({"op": "subscribe", "topic": f"user.{worker_id}"}))
        async for raw in ws:
            message = json.loads(raw)
            if message["op"] == "event":
                seen.append(message)
            elif message["op"] == "ping":
                await ws.send(json.dumps({"op": "pong", "n": message["n"]}))


async def test_a_call_through_the_web_process_is_forwarded_to_the_sip_process(layout):
    web, tokens = layout
    worker_id = tokens["worker_id"]
    base = f"http://127.0.0.1:{web.port}/api"
    commander = httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {tokens['commander']}"}, timeout=30)
    field = httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {tokens['worker']}"}, timeout=30)
    seen: list[dict] = []
    listener = asyncio.create_task(_invitations(web.ws_url, tokens["worker"], worker_id, seen))
    caller, callee = Peer(slots=1), Peer(size=(256, 192), slots=1)
    try:
        await asyncio.sleep(0.5)  # the worker's page is subscribed before the call starts
        created = await commander.post("/calls", json={"kind": "call", "invite": [{"worker_id": worker_id}],
                                                       "sdp": await caller.offer()})
        assert created.status_code == 201, created.text
        await caller.apply(created.json())
        call_id = created.json()["call"]["id"]

        await eventually(lambda: any(e.get("type") == "call.invite" for e in seen), timeout=15)
        invite = next(e for e in seen if e.get("type") == "call.invite")["data"]
        assert invite["call"] == call_id

        accepted = await field.post(f"/calls/{call_id}/accept", json={"sdp": await callee.offer()})
        assert accepted.status_code == 200, accepted.text
        await callee.apply(accepted.json())
        await eventually(lambda: len(callee.from_size((320, 240)).counters) > 5
                         and len(caller.from_size((256, 192)).counters) > 5, timeout=30)

        state = await commander.get(f"/calls/{call_id}")
        assert state.status_code == 200 and state.json()["state"] == "active"
        hung_up = await commander.post(f"/calls/{call_id}/hangup", json={})
        assert hung_up.status_code == 200 and hung_up.json()["state"] == "ended", hung_up.text
        assert (await field.get(f"/calls/{call_id}")).json()["state"] == "ended"
    finally:
        listener.cancel()
        await asyncio.gather(listener, return_exceptions=True)
        await caller.close()
        await callee.close()
        await commander.aclose()
        await field.aclose()
