"""Close codes and error codes of the hub protocol (docs/protocol.md)."""

from __future__ import annotations

from enum import IntEnum


class Close(IntEnum):
    """WebSocket close codes the hub uses; a client reconnects and resumes with `since` after all but 4001."""

    HEARTBEAT_TIMEOUT = 4000
    UNAUTHENTICATED = 4001
    TOO_SLOW = 4008
    EPOCH_CHANGED = 4009
    UNAVAILABLE = 4011
    RATE_LIMITED = 4029


# Error codes carried by {"op": "error", "code": ...}; the connection stays open.
BAD_JSON = "bad_json"
BAD_REQUEST = "bad_request"
BAD_TOPIC = "bad_topic"
BAD_SINCE = "bad_since"
BAD_FILTER = "bad_filter"
FORBIDDEN = "forbidden"
FRAME_TOO_LARGE = "frame_too_large"
BINARY_NOT_SUPPORTED = "binary_not_supported"
UNKNOWN_OP = "unknown_op"
RATE_LIMITED = "rate_limited"
TOO_MANY_SUBSCRIPTIONS = "too_many_subscriptions"
UNAUTHENTICATED = "unauthenticated"
NOT_SUBSCRIBED = "not_subscribed"
INVALID_POSITION = "invalid_position"
INGEST_FAILED = "ingest_failed"
