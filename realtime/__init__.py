"""The hub: event envelope, topics, publish(), streams with replay, WebSocket consumers."""

from realtime.publisher import publish

__all__ = ["publish"]
