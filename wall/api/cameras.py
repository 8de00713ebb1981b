"""Live camera video for browsers: WebRTC play sessions through the GB/T 28181 relay.

``POST /api/cameras/{id}/play`` takes the browser's offer and returns the answer with a session id;
``DELETE /api/cameras/{id}/play/{session}`` ends it; ``GET /api/cameras/streams`` shows the relay's streams.
Where the relay runs in this process (`wall demo`, or the `sip` process itself) it is called directly;
in a production `web` process the request is forwarded to ``WALL_GB_RELAY_URL`` (see video/gb28181/service.py).
"""

from __future__ import annotations

from typing import Any, Literal

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from ninja import Router, Schema
from pydantic import Field

from dispatchd.errors import DomainError, NotFound
from dispatchd.models import Camera
from video.gb28181 import service
from wall.api.base import api
from wall.api.roles import READERS, require
from wall.api.schemas import Id

router = Router(tags=["cameras"])
FORWARDED_HEADERS = ("Authorization", "Cookie", "X-CSRFToken")


class RelayError(DomainError):
    """The relay refused: not playable (H.265), camera unavailable, bad offer, too many viewers, no relay."""

    def __init__(self, refused: service.RelayRefused) -> None:
        super().__init__(refused.detail)
        self.status, self.code = refused.status, refused.code


class PlayIn(Schema):
    sdp: str = Field(min_length=1, max_length=64 * 1024)
    type: Literal["offer"] = "offer"


class PlayOut(Schema):
    sdp: str
    type: Literal["answer"]
    session: str
    state: str
    codec: str | None
    device_id: str
    channel_id: str


class StopOut(Schema):
    stopped: bool


async def _camera(camera_id: int) -> Camera:
    camera = await Camera.objects.filter(pk=camera_id).afirst()
    if camera is None:
        raise NotFound(f"no camera {camera_id}")
    return camera


async def _forward(request: HttpRequest) -> HttpResponse:
    headers = {name: request.headers[name] for name in FORWARDED_HEADERS if name in request.headers}
    if request.body:  # an empty body stays empty: the sip process then parses it as this process did
        headers["Content-Type"] = "application/json"
    try:
        status, body = await service.forward(request.method or "POST", request.get_full_path(), request.body, headers)
    except service.RelayRefused as exc:
        raise RelayError(exc) from exc
    return HttpResponse(body, status=status, content_type="application/json")


@router.post("/cameras/{camera_id}/play", response=PlayOut, summary="Watch a camera: WebRTC offer in, answer out")
async def play(request: HttpRequest, camera_id: Id, body: PlayIn) -> Any:
    require(request, *READERS)
    camera = await _camera(camera_id)
    local = service.current()
    if local is None:
        return await _forward(request)
    try:
        return await local.play(camera.device_id or camera.gb_id, camera.gb_id, body.sdp)
    except service.RelayRefused as exc:
        raise RelayError(exc) from exc


@router.delete("/cameras/{camera_id}/play/{session}", response=StopOut, summary="Stop watching a camera")
async def stop(request: HttpRequest, camera_id: Id, session: str) -> Any:
    require(request, *READERS)
    camera = await _camera(camera_id)
    local = service.current()
    if local is None:
        return await _forward(request)
    viewer = local.viewers.get(session[:64])
    if viewer is None or viewer.stream.channel_id != camera.gb_id:
        raise NotFound(f"no play session {session[:64]!r} of camera {camera_id}")
    return {"stopped": await local.stop(viewer.id)}


@router.get("/cameras/streams", response=list[dict[str, Any]], summary="The relay's camera streams and figures")
async def streams(request: HttpRequest) -> Any:
    require(request, *READERS)
    local = service.current()
    if local is None:
        return await _forward(request) if settings.WALL_GB_RELAY_URL else []
    return local.streams()


api.add_router("/", router)
