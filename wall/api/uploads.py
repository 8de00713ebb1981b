"""What an attachment upload may be: accepted types, checked against the file's first bytes, and a size limit."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from ninja.files import UploadedFile

from dispatchd.errors import InvalidInput, TooLarge

MAX_UPLOAD_BYTES: int = settings.WALL_MAX_UPLOAD_BYTES

# Declared type → test of the file's first bytes, so that a page cannot be stored as a "photo".
SIGNATURES: dict[str, Callable[[bytes], bool]] = {
    "image/jpeg": lambda head: head.startswith(b"\xff\xd8\xff"),
    "image/png": lambda head: head.startswith(b"\x89PNG\r\n\x1a\n"),
    "image/webp": lambda head: head[:4] == b"RIFF" and head[8:12] == b"WEBP",
    "application/pdf": lambda head: head.startswith(b"%PDF-"),
    "video/mp4": lambda head: head[4:8] == b"ftyp",
}


def check_upload(file: UploadedFile) -> None:
    """Refuse a file of a type we do not keep (400), whose content is not its type (400), or too large (413)."""
    if file.content_type not in SIGNATURES:
        raise InvalidInput({"file": f"type {file.content_type} not accepted; one of {sorted(SIGNATURES)}"})
    if file.size > MAX_UPLOAD_BYTES:
        raise TooLarge({"file": f"larger than {MAX_UPLOAD_BYTES} bytes"})
    file.seek(0)
    head = file.read(12)
    file.seek(0)
    if not SIGNATURES[file.content_type](head):
        raise InvalidInput({"file": f"the content is not {file.content_type}"})
