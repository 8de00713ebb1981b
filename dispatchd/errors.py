"""Errors of the dispatch domain, each with the HTTP status the API gives it."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A refusal by the domain: nothing was changed."""

    status = 400
    code = "invalid"

    def __init__(self, detail: Any) -> None:
        super().__init__(str(detail))
        self.detail = detail


class InvalidInput(DomainError):
    status = 400
    code = "invalid"


class NotFound(DomainError):
    status = 404
    code = "not_found"


class NotAllowed(DomainError):
    """The caller's role may not do this."""

    status = 403
    code = "forbidden"


class TransitionRefused(DomainError):
    """The action is not allowed from the case's current state."""

    status = 409
    code = "transition_refused"


class ConcurrentUpdate(DomainError):
    """Another transition changed the case first."""

    status = 409
    code = "concurrent_update"


class TooLarge(DomainError):
    """The input is larger than we accept."""

    status = 413
    code = "too_large"
