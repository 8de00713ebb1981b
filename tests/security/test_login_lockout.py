"""Brute-force lockout of the login: per username and per client address, shared by every process."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from django.contrib.auth.models import User
from django.test import Client

from dispatchd.models import AuditEntry
from tests.realtime.servers import ROOT, WallServer, prepare_data_dir

PASSWORD = "correct horse battery"
LOCKED = "Too many failed logins"
CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')


@pytest.fixture
def users(db) -> list[User]:
    """Three staff users who may log into the admin."""
    return [User.objects.create_superuser(name, password=PASSWORD) for name in ("duty", "night", "backup")]


def login(username: str, password: str, ip: str = "127.0.0.1") -> tuple[int, str]:
    """POST the admin login form from `ip`; (status, page text). 302 means logged in."""
    response = Client(REMOTE_ADDR=ip).post("/admin/login/", {"username": username, "password": password})
    return response.status_code, response.content.decode()


def fail(username: str, times: int, ip: str = "127.0.0.1") -> None:
    """Fail to log in as `username` `times` times."""
    for _ in range(times):
        status, page = login(username, "wrong", ip)
        assert status == 200 and LOCKED not in page


def test_the_sixth_attempt_is_refused_even_with_the_right_password(users):
    fail("duty", 5)
    status, page = login("duty", PASSWORD)
    assert status == 200 and LOCKED in page and "15 minutes" in page
    unchecked = login("duty", "wrong")[1]  # refused alike: the password is not looked at
    assert CSRF_FIELD.sub("", unchecked) == CSRF_FIELD.sub("", page)
    actions = list(AuditEntry.objects.filter(target="user:duty").values_list("action", flat=True))
    assert sorted(actions) == ["login.failed"] * 5 + ["login.refused"] * 2


def test_the_lock_ends_after_the_lockout_time(users, clock):
    fail("duty", 5)
    clock.advance(minutes=14)
    assert LOCKED in login("duty", PASSWORD)[1]
    clock.advance(minutes=2)
    assert login("duty", PASSWORD)[0] == 302


def test_failures_older_than_the_window_do_not_count(users, clock):
    fail("duty", 4)
    clock.advance(minutes=16)
    fail("duty", 4)
    assert login("duty", PASSWORD)[0] == 302


def test_a_successful_login_starts_the_count_afresh(users):
    fail("duty", 4)
    assert login("duty", PASSWORD)[0] == 302
    fail("duty", 4)
    assert login("duty", PASSWORD)[0] == 302


def test_one_locked_account_leaves_the_others_alone(users):
    fail("duty", 5)
    assert login("night", PASSWORD)[0] == 302


def test_too_many_failures_from_one_address_lock_it_for_every_account(users, settings):
    settings.WALL_LOGIN_MAX_FAILURES_PER_IP = 8
    fail("duty", 4, ip="10.0.0.7")
    fail("night", 4, ip="10.0.0.7")
    status, page = login("backup", PASSWORD, ip="10.0.0.7")
    assert status == 200 and "from this address" in page
    assert login("backup", PASSWORD, ip="10.0.0.8")[0] == 302


def test_the_limits_are_settings(users, settings):
    settings.WALL_LOGIN_MAX_FAILURES = 2
    fail("duty", 2)
    assert LOCKED in login("duty", PASSWORD)[1]


_SUPERUSER = f"""
import django
django.setup()
from django.contrib.auth.models import User
User.objects.create_superuser("duty", password={PASSWORD!r})
"""


def _admin_login(base: str, password: str) -> int:
    """Log into the admin of a real server like a browser (form, cookie and CSRF token); the status."""
    with httpx.Client(base_url=base, timeout=15) as browser:
        form = browser.get("/admin/login/").text
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)
        answer = browser.post(
            "/admin/login/", data={"username": "duty", "password": password, "csrfmiddlewaretoken": token},
            headers={"Referer": f"{base}/admin/login/"},
        )
        return answer.status_code if LOCKED not in answer.text else 423


def test_the_lock_is_shared_by_every_web_process(tmp_path: Path, redis_url: str):
    prepare_data_dir(tmp_path)
    env = dict(os.environ, WALL_DATA_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="wall.settings")
    env.pop("DATABASE_URL", None)
    subprocess.run([sys.executable, "-c", _SUPERUSER], env=env, cwd=ROOT, check=True)
    one, two = WallServer(tmp_path, redis_url).start(), WallServer(tmp_path, redis_url).start()
    try:
        for _ in range(5):
            assert _admin_login(f"http://127.0.0.1:{one.port}", "wrong") == 200
        assert _admin_login(f"http://127.0.0.1:{two.port}", PASSWORD) == 423
    finally:
        one.stop()
        two.stop()
