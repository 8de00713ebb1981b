"""Browser sessions on a running server: a hub connection ends with its session; the client address behind a proxy."""

from __future__ import annotations

import asyncio
import json

import httpx
from websockets.asyncio.client import connect

from tests.realtime.servers import WallServer, prepare_data_dir
from tests.security.test_tokens import _wall, until_closed

MAKE_USER = """
from django.contrib.auth.models import Group, User
user = User.objects.create_user("desk", password="desk-pw-1", is_staff=True)  # the admin login form
user.groups.add(Group.objects.get_or_create(name="commander")[0])
"""


async def _log_in(http: httpx.AsyncClient) -> None:
    """Log in through the admin's login form, as a browser does (csrftoken cookie, then the form)."""
    await http.get("/admin/login/")
    answer = await http.post("/admin/login/?next=/admin/", data={
        "username": "desk", "password": "desk-pw-1", "csrfmiddlewaretoken": http.cookies["csrftoken"]})
    assert answer.status_code == 302 and "sessionid" in http.cookies, answer.text[:300]


async def test_a_session_connection_is_closed_after_logout(tmp_path, redis_url):
    prepare_data_dir(tmp_path)
    server = WallServer(tmp_path, redis_url, WALL_HUB_TOKEN_RECHECK_S="0.3").start()
    origin = f"http://127.0.0.1:{server.port}"
    try:
        await asyncio.to_thread(_wall, server, "manage", "shell", "-c", MAKE_USER)
        async with httpx.AsyncClient(base_url=origin) as http:
            await _log_in(http)
            cookie = f"sessionid={http.cookies['sessionid']}"
            async with connect(server.ws_url, origin=origin, additional_headers={"Cookie": cookie}) as ws:
                hello = json.loads(await ws.recv())
                assert (hello["op"], hello["role"], hello["name"]) == ("hello", "commander", "desk")
                await asyncio.sleep(1.0)  # several checks pass while the session is open
                await ws.send(json.dumps({"op": "subscribe", "topic": "cases"}))
                assert json.loads(await ws.recv())["op"] == "subscribed"
                logout = await http.post("/admin/logout/", headers={"X-CSRFToken": http.cookies["csrftoken"]})
                assert logout.status_code == 200, logout.text[:300]
                frames = await until_closed(ws)
            assert ws.close_code == 4001
            assert {"op": "error", "code": "unauthenticated", "detail": "the session ended (logged out)"} in frames
            async with connect(server.ws_url, origin=origin, additional_headers={"Cookie": cookie}) as ws:
                refusal = json.loads(await asyncio.wait_for(ws.recv(), 10))
                assert refusal["op"] == "error" and refusal["code"] == "unauthenticated"
    finally:
        server.stop()


async def test_behind_a_proxy_the_client_address_comes_from_x_forwarded_for(tmp_path, redis_url):
    tokens = prepare_data_dir(tmp_path)
    server = WallServer(tmp_path, redis_url, WALL_PROXY_HEADERS="1").start()
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}") as http:
            await http.get("/admin/login/")
            failed = await http.post("/admin/login/", headers={"X-Forwarded-For": "203.0.113.7"}, data={
                "username": "nobody", "password": "wrong", "csrfmiddlewaretoken": http.cookies["csrftoken"]})
            assert failed.status_code == 200  # the form again, with its error
            log = await http.get("/api/audit", params={"action": "login.failed"},
                                 headers={"Authorization": f"Bearer {tokens['admin']}"})
        assert [entry["ip"] for entry in log.json()] == ["203.0.113.7"], log.text
    finally:
        server.stop()
