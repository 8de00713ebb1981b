"""Which streams this process uses: Redis when REDIS_URL is set, else the in-process ring buffers."""

from __future__ import annotations

import threading

from realtime.config import HubConfig, load_config
from realtime.deferral import DeferringStreams
from realtime.memory import MemoryStreams
from realtime.redis_streams import RedisStreams

_lock = threading.Lock()
_state: dict[str, object] = {}


def config() -> HubConfig:
    """The hub configuration of this process (read once)."""
    with _lock:
        if "config" not in _state:
            _state["config"] = load_config()
        return _state["config"]  # type: ignore[return-value]


def sync_streams() -> MemoryStreams | DeferringStreams:
    """The streams that synchronous producers append to."""
    cfg = config()
    with _lock:
        if "sync" not in _state:
            if cfg.redis_url:
                redis_streams = RedisStreams(cfg.redis_url, cfg.stream_maxlen, cfg.stream_max_age_s)
                _state["sync"] = DeferringStreams(redis_streams)
            else:
                _state["sync"] = MemoryStreams(cfg.stream_maxlen, cfg.stream_max_age_s)
        return _state["sync"]  # type: ignore[return-value]


def reset() -> None:
    """Forget the configuration and streams (tests that change settings)."""
    with _lock:
        _state.clear()
