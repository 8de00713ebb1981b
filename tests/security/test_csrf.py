"""CSRF: an API write authenticated by the session cookie needs the CSRF token; one with a bearer token does not."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client

from dispatchd.models import Case


def case_body(city) -> str:
    """A valid report."""
    lat, lon = city.point_in(0)
    return json.dumps({"title": "占道经营", "category": "0101", "lat": lat, "lon": lon})


@pytest.fixture
def session(city) -> Client:
    """A browser logged in as a commander, holding the csrftoken cookie, whose requests Django checks for CSRF."""
    user = User.objects.create_user("desk", password="pw")
    user.groups.add(Group.objects.create(name="commander"))
    client = Client(enforce_csrf_checks=True)
    assert client.get("/admin/login/").status_code == 200  # sets the csrftoken cookie
    client.force_login(user)
    return client


def test_a_session_write_without_the_token_is_refused(city, session):
    response = session.post("/api/cases", case_body(city), content_type="application/json")
    assert (response.status_code, response.json()["error"]) == (403, "csrf_failed")
    assert not Case.objects.exists()


def test_a_session_write_with_a_wrong_token_is_refused(city, session):
    response = session.post("/api/cases", case_body(city), content_type="application/json",
                            HTTP_X_CSRFTOKEN="x" * 64)
    assert (response.status_code, response.json()["error"]) == (403, "csrf_failed")
    assert not Case.objects.exists()


@pytest.mark.parametrize("path", ["/api/cameras/1/play/abc", "/api/calls/abc/participants/worker:1"])
def test_a_session_delete_needs_the_token_too(city, session, path):
    response = session.delete(path)
    assert (response.status_code, response.json()["error"]) == (403, "csrf_failed")


def test_a_session_write_with_the_token_is_accepted(city, session):
    token = session.cookies["csrftoken"].value
    response = session.post("/api/cases", case_body(city), content_type="application/json", HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 201, response.content
    assert Case.objects.count() == 1


def test_a_session_read_needs_no_token(city, session):
    assert session.get("/api/cases").status_code == 200


def test_a_bearer_write_needs_no_token(city, api_as):
    token = api_as("commander").client.defaults["HTTP_AUTHORIZATION"]
    client = Client(enforce_csrf_checks=True, HTTP_AUTHORIZATION=token)
    response = client.post("/api/cases", case_body(city), content_type="application/json")
    assert response.status_code == 201, response.content
