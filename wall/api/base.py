"""The NinjaAPI instance, its authentication and its error handlers."""

from __future__ import annotations

import logging

from django.core.exceptions import RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import HttpBearer
from ninja.utils import check_csrf
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from dispatchd.errors import DomainError, NotAllowed
from wall.auth import Principal, authenticate_token, principal_from_user

SAFE_METHODS = ("GET", "HEAD", "OPTIONS", "TRACE")
# A backing service that does not answer (restarting, failing over): the request changed nothing it could
# not repeat, so the caller is told to retry rather than given a 500.
UNAVAILABLE = (OperationalError, InterfaceError, RedisConnectionError, RedisTimeoutError)
RETRY_AFTER_S = 1
log = logging.getLogger(__name__)


class CsrfFailed(NotAllowed):
    """A session-authenticated write without a valid CSRF token."""

    code = "csrf_failed"


class BearerOrSession(HttpBearer):
    """Accept `Authorization: Bearer <token>` or a logged-in Django session; optionally only some roles.

    A write authenticated by the session cookie needs Django's CSRF token (X-CSRFToken header), else 403:
    a browser sends the cookie with a forged cross-site request too, but never a bearer header.
    With `roles`, a caller of another role gets 403 before the request is even validated.
    """

    def __init__(self, roles: tuple[str, ...] | None = None) -> None:
        super().__init__()
        self.roles = roles

    def __call__(self, request: HttpRequest) -> Principal | None:
        header = request.headers.get("Authorization")
        if header:
            principal = super().__call__(request)
        else:
            principal = principal_from_user(getattr(request, "user", None))
            if principal is not None:
                if request.method not in SAFE_METHODS and check_csrf(request) is not None:
                    raise CsrfFailed(
                        "CSRF token missing or incorrect: send the csrftoken cookie's value as X-CSRFToken"
                    )
                request.principal = principal
        if principal is not None and self.roles is not None and principal.role not in self.roles:
            raise NotAllowed(f"role {principal.role} may not do this (needs one of: {', '.join(self.roles)})")
        return principal

    def authenticate(self, request: HttpRequest, token: str) -> Principal | None:
        principal = authenticate_token(token)
        if principal is not None:
            request.principal = principal
        return principal


api = NinjaAPI(
    title="Command wall API",
    version="1",
    description="Cases, field state, sensors, cameras and incidents of the command hall.",
    auth=BearerOrSession(),
    openapi_url="/openapi.json",
    docs_url="/docs",
    urls_namespace="api",
)


def _error(request: HttpRequest, status: int, code: str, detail) -> HttpResponse:
    return api.create_response(request, {"error": code, "detail": detail}, status=status)


@api.exception_handler(ValidationError)
def _validation(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    detail = [
        {"loc": [str(p) for p in err.get("loc", ())], "msg": str(err.get("msg", ""))} for err in exc.errors
    ]
    return _error(request, 400, "invalid", detail)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return _error(request, 401, "unauthenticated", "a valid bearer token or session is required")


@api.exception_handler(DomainError)
def _domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return _error(request, exc.status, exc.code, exc.detail)


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return _error(request, exc.status_code, "http_error", str(exc))


@api.exception_handler(RequestDataTooBig)
def _too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    return _error(request, 413, "too_large", str(exc))


def _unavailable(request: HttpRequest, exc: Exception) -> HttpResponse:
    log.warning("%s %s: backing service unavailable: %s: %s", request.method, request.path, type(exc).__name__, exc)
    response = _error(request, 503, "unavailable",
                      "the database or Redis is not answering (restarting?); retry shortly")
    response["Retry-After"] = str(RETRY_AFTER_S)
    return response


for _kind in UNAVAILABLE:
    api.add_exception_handler(_kind, _unavailable)
