"""Attachments: accepted types whose content matches, a size limit (413), who may upload, download, feedback."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

import wall.api.uploads
from dispatchd.models import Attachment, CaseStatus
from tests.dispatchd.helpers import case_in

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF" + b"\x00" * 100
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 100


def upload(client, case_id: int, content: bytes = JPEG, content_type: str = "image/jpeg", name: str = "p.jpg"):
    """POST a file to the case's attachments."""
    file = SimpleUploadedFile(name, content, content_type=content_type)
    return client.client.post(f"/api/cases/{case_id}/attachments", {"file": file})


def test_a_photo_is_stored_listed_and_downloaded(city, commander, events):
    case = case_in(city, CaseStatus.HANDLING)
    with events.committing():
        response = upload(commander, case.id, name="现场.jpg")
    assert response.status_code == 201, response.content
    stored = response.json()
    assert events.types() == ["case.attach"]
    entry = case.timeline.last()
    assert (entry.action, entry.data["attachment"], entry.actor) == ("attach", stored["id"], "commander:test-commander")
    assert (stored["name"], stored["content_type"], stored["size"]) == ("现场.jpg", "image/jpeg", len(JPEG))
    assert commander.get(f"cases/{case.id}/attachments").json() == [stored]
    download = commander.client.get(stored["url"])
    assert download.status_code == 200 and b"".join(download.streaming_content) == JPEG
    assert download["Content-Type"] == "image/jpeg" and download["X-Content-Type-Options"] == "nosniff"


def test_a_worker_uploads_photos_and_feeds_back_with_them(city, api_as):
    case = case_in(city, CaseStatus.HANDLING)
    worker = api_as("worker", city.workers[1])
    photos = [upload(worker, case.id).json()["id"], upload(worker, case.id, PNG, "image/png", "b.png").json()["id"]]
    response = worker.act(case.id, "feedback", note="已清理", attachments=photos)
    assert response.status_code == 200 and response.json()["status"] == "feedback"
    assert case.timeline.last().data == {"attachments": photos}


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b"hello", "text/plain"),
        (b"<html><script>alert(1)</script></html>", "image/png"),
        (JPEG, "application/pdf"),
        (b"MZ\x90\x00", "application/octet-stream"),
    ],
)
def test_other_types_or_content_that_is_not_its_type_are_refused(city, commander, content, content_type):
    case = case_in(city, CaseStatus.HANDLING)
    response = upload(commander, case.id, content, content_type)
    assert (response.status_code, response.json()["error"]) == (400, "invalid")
    assert Attachment.objects.count() == 0


def test_a_file_over_the_upload_limit_is_refused_with_413(city, commander, monkeypatch):
    monkeypatch.setattr(wall.api.uploads, "MAX_UPLOAD_BYTES", 1000)
    case = case_in(city, CaseStatus.HANDLING)
    response = upload(commander, case.id, JPEG + b"\x00" * 1000)
    assert (response.status_code, response.json()["error"]) == (413, "too_large")
    assert Attachment.objects.count() == 0


def test_a_body_over_the_request_limit_is_refused_before_it_is_read(city, commander, settings):
    settings.WALL_MAX_BODY_BYTES = 2000
    case = case_in(city, CaseStatus.HANDLING)
    response = upload(commander, case.id, JPEG + b"\x00" * 4000)
    assert (response.status_code, response.json()["error"]) == (413, "too_large")
    assert Attachment.objects.count() == 0


def test_an_upload_without_a_file_is_refused(city, commander):
    case = case_in(city, CaseStatus.HANDLING)
    response = commander.client.post(f"/api/cases/{case.id}/attachments", {"note": "no file"})
    assert response.status_code == 400 and response.json()["error"] == "invalid"


def test_who_may_attach(city, api_as):
    case = case_in(city, CaseStatus.HANDLING)  # worker 1's
    assert upload(api_as("wall"), case.id).status_code == 403
    assert upload(api_as("device"), case.id).status_code == 403
    assert upload(api_as("worker", city.workers[2]), case.id).status_code == 404
    assert upload(api_as("admin"), case.id).status_code == 201
    assert Attachment.objects.count() == 1


def test_an_attachment_of_a_case_a_worker_cannot_see_is_not_served_to_them(city, commander, api_as):
    case = case_in(city, CaseStatus.HANDLING)
    url = upload(commander, case.id).json()["url"]
    assert api_as("worker", city.workers[2]).client.get(url).status_code == 404
    assert api_as("wall").client.get(url).status_code == 200
