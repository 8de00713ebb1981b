"""Hub settings, read once from Django settings with the defaults documented in docs/protocol.md."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class HubConfig:
    """Limits and intervals of the hub."""

    redis_url: str = ""
    stream_maxlen: int = 20_000
    stream_max_age_s: float = 3600.0
    tick_s: float = 0.5
    heartbeat_s: float = 10.0
    auth_timeout_s: float = 5.0
    max_frame_bytes: int = 64 * 1024
    queue_frames: int = 2000
    send_window_bytes: int = 1024 * 1024
    position_window_bytes: int = 256 * 1024  # of the send window, what position batches may take
    batch_part_items: int = 500  # position items per batch frame
    position_spread_s: float = 0.25  # a batch's parts go out evenly over this long (at most 0.8 of a tick)
    ops_per_s: float = 20.0
    ops_burst: int = 60
    max_subscriptions: int = 64
    authenticator: str = "wall.auth.authenticate_token"
    session_authenticator: str = "wall.auth.principal_from_session"  # session key -> principal, None once closed
    token_recheck_s: float = 30.0  # a connection checks its token or session again this often (revocation, logout)
    position_sink: str = ""  # dotted path of the position ingest function; empty: ingest refused
    position_ops_per_s: float = 2.0
    position_ops_burst: int = 10
    position_batch_max: int = 100
    position_concurrency: int = 4


def load_config() -> HubConfig:
    """The hub configuration from Django settings (WALL_HUB_* and REDIS_URL)."""
    from django.conf import settings

    defaults = HubConfig()
    values = {"redis_url": getattr(settings, "REDIS_URL", "") or ""}
    for name in HubConfig.__dataclass_fields__:
        if name != "redis_url":
            values[name] = getattr(settings, f"WALL_HUB_{name.upper()}", getattr(defaults, name))
    return HubConfig(**values)
