"""Uploads: only photo/document types whose bytes match, and served so that no browser runs them."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from dispatchd.models import Attachment, CaseStatus
from tests.dispatchd.helpers import case_in
from tests.security.conftest import JPEG


def upload(api, case_id: int, content: bytes, content_type: str, name: str = "p.jpg"):
    """POST one file to the case's attachments."""
    return api.client.post(f"/api/cases/{case_id}/attachments",
                           {"file": SimpleUploadedFile(name, content, content_type=content_type)})


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "image/svg+xml"),
        (b"<!doctype html><script>alert(1)</script>", "text/html"),
        (b"<!doctype html><script>alert(1)</script>", "image/jpeg"),
        (b"GIF89a" + b"\x00" * 20, "image/gif"),
        (b"", "image/png"),
    ],
)
def test_markup_and_unlisted_types_are_refused(city, commander, content, content_type):
    case = case_in(city, CaseStatus.HANDLING)
    response = upload(commander, case.id, content, content_type)
    assert (response.status_code, response.json()["error"]) == (400, "invalid")
    assert not Attachment.objects.exists()


def test_a_download_is_an_attachment_no_browser_sniffs_or_runs(city, commander):
    case = case_in(city, CaseStatus.HANDLING)
    polyglot = JPEG + b"<script>alert(1)</script>"  # a real JPEG head, markup after it
    stored = upload(commander, case.id, polyglot, "image/jpeg", name='现场"><img src=x>.jpg').json()
    download = commander.client.get(stored["url"])
    assert download.status_code == 200
    assert download["Content-Type"] == "image/jpeg"
    assert download["X-Content-Type-Options"] == "nosniff"
    assert download["Content-Security-Policy"] == "default-src 'none'"
    disposition = download["Content-Disposition"]
    assert disposition.startswith("attachment; filename*=UTF-8''") and '"' not in disposition and "<" not in disposition


def test_a_name_with_a_path_stays_inside_the_media_folder(city, commander):
    case = case_in(city, CaseStatus.HANDLING)
    stored = upload(commander, case.id, JPEG, "image/jpeg", name="../../../../etc/cron.d/evil.jpg")
    assert stored.status_code == 201
    path = Path(Attachment.objects.get().file.path).resolve()
    assert path.is_relative_to(Path(settings.MEDIA_ROOT).resolve() / "attachments")
    assert ".." not in Attachment.objects.get().file.name


def test_stored_files_are_not_served_from_the_media_folder(city, commander):
    case = case_in(city, CaseStatus.HANDLING)
    upload(commander, case.id, JPEG, "image/jpeg")
    name = Attachment.objects.get().file.name
    assert Client().get(f"{settings.MEDIA_URL}{name}").status_code == 404

