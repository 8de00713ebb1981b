"""`wall token create --role R --name N` prints the token alone on its last line."""

from __future__ import annotations

import pytest
from django.test import Client

from wall.cli import main


def created_token(capsys, *args: str) -> str:
    """Run `wall token create …` and return its last stdout line."""
    assert main(["token", "create", *args]) == 0
    return capsys.readouterr().out.splitlines()[-1]


def test_the_token_is_alone_on_the_last_line_and_works(db, capsys):
    token = created_token(capsys, "--role", "commander", "--name", "duty-desk")
    assert token.startswith("wt_") and " " not in token
    assert Client(HTTP_AUTHORIZATION=f"Bearer {token}").get("/api/cases").status_code == 200


def test_a_wall_token_reads_but_does_not_write(db, capsys):
    token = created_token(capsys, "--role", "wall", "--name", "screen-1")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert client.get("/api/cases").status_code == 200
    assert client.post("/api/cases", "{}", content_type="application/json").status_code in (400, 403)


def test_a_worker_token_names_its_worker(city, capsys):
    token = created_token(capsys, "--role", "worker", "--name", "w0", "--worker", city.workers[0].code)
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert client.get(f"/api/workers/{city.workers[0].id}/trail").status_code == 200
    assert client.get(f"/api/workers/{city.workers[1].id}/trail").status_code == 403


@pytest.mark.parametrize("extra", [[], ["--worker", "NOPE"]])
def test_a_worker_token_without_a_known_worker_is_refused(db, capsys, extra):
    assert main(["token", "create", "--role", "worker", "--name", "w", *extra]) == 2
    assert capsys.readouterr().out == ""


def test_an_unknown_role_is_refused(db):
    with pytest.raises(SystemExit):
        main(["token", "create", "--role", "root", "--name", "x"])
