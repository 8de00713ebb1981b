"""GET /healthz: database and channel layer state."""

from __future__ import annotations

import asyncio
import time

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import connection
from django.http import HttpRequest, JsonResponse


def _check_database() -> dict:
    started = time.perf_counter()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any driver error means "down"; report it, never raise
        return {"ok": False, "vendor": connection.vendor, "error": str(exc)[:200]}
    return {"ok": True, "vendor": connection.vendor, "ms": round((time.perf_counter() - started) * 1000, 2)}


def _check_layer() -> dict:
    try:
        layer = get_channel_layer()
    except Exception as exc:  # a misconfigured layer is reported as down, never as a 500
        return {"ok": False, "backend": "unavailable", "error": str(exc)[:200]}
    kind = type(layer).__name__ if layer else "none"
    if layer is None:
        return {"ok": False, "backend": kind}

    async def roundtrip() -> None:
        channel = await layer.new_channel()
        await layer.send(channel, {"type": "health.ping"})
        await asyncio.wait_for(layer.receive(channel), timeout=2)

    try:
        async_to_sync(roundtrip)()
    except Exception as exc:  # a broken layer is reported as down, never as a 500
        return {"ok": False, "backend": kind, "error": str(exc)[:200]}
    return {"ok": True, "backend": kind}


def healthz(request: HttpRequest) -> JsonResponse:
    """Report whether the database and the channel layer answer."""
    database = _check_database()
    layer = _check_layer()
    ok = database["ok"] and layer["ok"]
    return JsonResponse(
        {"status": "ok" if ok else "degraded", "database": database, "channel_layer": layer},
        status=200 if ok else 503,
    )
