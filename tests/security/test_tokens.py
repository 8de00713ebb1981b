"""Tokens: hashed at rest, listed and revoked with `wall token`, refused at once by HTTP and by the hub."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess

import httpx
import pytest
import websockets
from django.contrib.auth.models import User
from django.test import Client
from websockets.asyncio.client import connect

from dispatchd.models import AuditEntry
from tests.realtime.servers import ROOT, WALL, WallServer, prepare_data_dir
from wall.cli import main
from wall.models import ApiToken


def created(capsys, role: str = "commander", name: str = "desk-1") -> str:
    """A token made with `wall token create`."""
    assert main(["token", "create", "--role", role, "--name", name]) == 0
    return capsys.readouterr().out.splitlines()[-1]


def test_only_the_hash_of_a_token_is_stored(db, capsys):
    raw = created(capsys)
    stored = ApiToken.objects.get()
    assert raw not in {stored.digest, stored.prefix, stored.name} and len(stored.digest) == 64
    assert stored.prefix == raw[3:9]


def test_list_shows_prefixes_and_never_the_tokens(db, capsys):
    raw = created(capsys, name="screen-1")
    created(capsys, role="admin", name="ops")
    assert main(["token", "list"]) == 0
    listing = capsys.readouterr().out
    assert "screen-1" in listing and "ops" in listing and raw[3:9] in listing and raw not in listing


@pytest.mark.parametrize("by", ["prefix", "name", "token"])
def test_revoke_by_prefix_name_or_token_takes_effect_at_once(db, capsys, by):
    raw = created(capsys)
    keep = created(capsys, name="desk-2")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert client.get("/api/cases").status_code == 200
    ref = {"prefix": raw[3:9], "name": "desk-1", "token": raw}[by]
    assert main(["token", "revoke", "--", ref]) == 0  # "--": a prefix may begin with "-"
    assert f"revoked {raw[3:9]}" in capsys.readouterr().out
    assert client.get("/api/cases").status_code == 401
    assert Client(HTTP_AUTHORIZATION=f"Bearer {keep}").get("/api/cases").status_code == 200
    assert main(["token", "list"]) == 0
    assert "desk-1" not in capsys.readouterr().out


def test_revoking_an_unknown_token_says_so(db, capsys):
    assert main(["token", "revoke", "nope"]) == 2
    assert "no live token" in capsys.readouterr().err


def _wall(server: WallServer, *args: str) -> str:
    """Run `wall …` against the hub server's data dir; its stdout."""
    env = dict(os.environ, WALL_DATA_DIR=str(server.data_dir))
    env.pop("DATABASE_URL", None)
    return subprocess.run([WALL, *args], env=env, cwd=ROOT, capture_output=True, text=True, check=True).stdout


async def until_closed(ws) -> list[dict]:
    """The frames a hub connection gets until the server closes it (each within 10 s)."""
    frames = []
    with pytest.raises(websockets.ConnectionClosed):
        while True:
            frames.append(json.loads(await asyncio.wait_for(ws.recv(), 10)))
    return frames


async def test_a_revoked_token_is_refused_by_the_running_server(server: WallServer):
    token = (await asyncio.to_thread(_wall, server, "token", "create", "--role", "wall", "--name", "hall-9"))
    token = token.splitlines()[-1]
    origin = f"http://127.0.0.1:{server.port}"
    async with connect(f"{server.ws_url}?token={token}", origin=origin) as ws:
        assert json.loads(await ws.recv())["op"] == "hello"
    await asyncio.to_thread(_wall, server, "token", "revoke", "hall-9")
    async with connect(f"{server.ws_url}?token={token}", origin=origin) as ws:
        refusal = json.loads(await ws.recv())
        assert (refusal["op"], refusal["code"]) == ("error", "unauthenticated")
        with pytest.raises(websockets.ConnectionClosed):
            await asyncio.wait_for(ws.recv(), 10)
        assert ws.close_code == 4001
    async with httpx.AsyncClient() as http:
        answer = await http.get(f"{origin}/api/cases", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 401


async def test_a_hub_connection_open_when_its_token_is_revoked_is_closed(tmp_path, redis_url):
    prepare_data_dir(tmp_path)
    server = WallServer(tmp_path, redis_url, WALL_HUB_TOKEN_RECHECK_S="0.5").start()
    try:
        token = (await asyncio.to_thread(_wall, server, "token", "create", "--role", "wall", "--name", "hall-10"))
        token = token.splitlines()[-1]
        async with connect(f"{server.ws_url}?token={token}", origin=f"http://127.0.0.1:{server.port}") as ws:
            assert json.loads(await ws.recv())["op"] == "hello"
            await ws.send(json.dumps({"op": "subscribe", "topic": "cases"}))
            assert json.loads(await ws.recv())["op"] == "subscribed"
            await asyncio.to_thread(_wall, server, "token", "revoke", "hall-10")
            frames = await until_closed(ws)
        assert ws.close_code == 4001
        assert {"op": "error", "code": "unauthenticated", "detail": "the token was revoked"} in frames
    finally:
        server.stop()


def test_an_admin_revokes_in_the_admin_and_the_log_names_them(db, capsys):
    raw = created(capsys)
    client = Client()
    client.force_login(User.objects.create_superuser("root", password="pw"))
    token = ApiToken.objects.get()
    answer = client.post("/admin/wall/apitoken/", {"action": "revoke", "_selected_action": [token.pk]})
    assert answer.status_code == 302
    assert Client(HTTP_AUTHORIZATION=f"Bearer {raw}").get("/api/cases").status_code == 401
    entry = AuditEntry.objects.get(action="token.revoke")
    assert (entry.role, entry.actor, entry.target) == ("admin", "root", f"token:{token.pk}")
    assert client.post(f"/admin/wall/apitoken/{token.pk}/delete/", {"post": "yes"}).status_code == 403
