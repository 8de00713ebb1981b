"""The hub: event envelope, topics, publish(), streams with replay, WebSocket consumers."""

from realtime.publisher import apublish, publish, publish_many

__all__ = ["apublish", "publish", "publish_many"]
