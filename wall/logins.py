"""Logins: every login, failure and logout in the audit log, and the brute-force lockout read from it.

After WALL_LOGIN_MAX_FAILURES failed logins for one username (or WALL_LOGIN_MAX_FAILURES_PER_IP from one
address) within WALL_LOGIN_WINDOW_S, further attempts are refused for WALL_LOGIN_LOCKOUT_S without the
password being checked. The failures are audit entries, so every process sees the same count.
"""

from __future__ import annotations

import contextvars
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest
from django.utils import timezone

from dispatchd import audit
from dispatchd.actors import Actor
from dispatchd.models import AuditEntry
from wall.auth import principal_from_user

LOGIN, FAILED, REFUSED, LOGOUT = "login", "login.failed", "login.refused", "logout"


@dataclass(frozen=True)
class Lock:
    """Why logins are refused (too many failures for the username, or from the address) and until when."""

    reason: str
    until: datetime

    @property
    def message(self) -> str:
        """What the login page says."""
        minutes = max(1, math.ceil((self.until - timezone.now()).total_seconds() / 60))
        who = "此账号" if self.reason == "user" else "此地址"
        return (
            f"{who}登录失败次数过多，已暂时锁定，请 {minutes} 分钟后再试。"
            f" Too many failed logins {'for this account' if self.reason == 'user' else 'from this address'}:"
            f" try again in {minutes} minute{'s' if minutes > 1 else ''}."
        )


# The lock that refused the attempt being authenticated, for the failure signal and the login form.
_refusal: contextvars.ContextVar[Lock | None] = contextvars.ContextVar("login_refusal", default=None)


def client_ip(request: HttpRequest | None) -> str | None:
    """The address the request came from (Daphne's peer), or None."""
    return audit.valid_ip(request.META.get("REMOTE_ADDR")) if request is not None else None


def _target(username: str | None) -> str:
    return f"user:{(username or '')[:150]}"


def _locked_until(failures, limit: int, now: datetime) -> datetime | None:
    """The end of the lock once `failures` (a queryset of failure times) reaches `limit`, if still ahead."""
    times = list(failures.order_by("-at").values_list("at", flat=True)[:limit])
    if len(times) < limit:
        return None
    until = times[0] + timedelta(seconds=settings.WALL_LOGIN_LOCKOUT_S)
    return until if until > now else None


def lock_of(username: str | None, ip: str | None, now: datetime | None = None) -> Lock | None:
    """The lock on logins as `username` from `ip`, or None when they may try."""
    now = now or timezone.now()
    start = now - timedelta(seconds=settings.WALL_LOGIN_WINDOW_S)
    target = _target(username)
    logins = AuditEntry.objects.filter(action=LOGIN, target=target, at__gte=start)
    last_login = logins.order_by("-at").values_list("at", flat=True).first()
    failures = AuditEntry.objects.filter(action=FAILED, target=target, at__gte=start)
    if last_login is not None:  # a successful login starts the count afresh
        failures = failures.filter(at__gt=last_login)
    until = _locked_until(failures, settings.WALL_LOGIN_MAX_FAILURES, now)
    if until is not None:
        return Lock("user", until)
    if ip is not None:
        failures = AuditEntry.objects.filter(action=FAILED, ip=ip, at__gte=start)
        until = _locked_until(failures, settings.WALL_LOGIN_MAX_FAILURES_PER_IP, now)
        if until is not None:
            return Lock("ip", until)
    return None


class LockoutBackend(ModelBackend):
    """Django's model backend behind the lockout: a locked username or address is refused unchecked."""

    def authenticate(self, request: HttpRequest | None, username: str | None = None, password: str | None = None,
                     **kwargs):
        """The user, unless logins are locked (then PermissionDenied stops every backend) or the password is wrong."""
        if username is None:
            username = kwargs.get(get_user_model().USERNAME_FIELD)
        lock = lock_of(username, client_ip(request))
        _refusal.set(lock)
        if lock is not None:
            raise PermissionDenied(lock.message)
        return super().authenticate(request, username=username, password=password, **kwargs)


class LockoutAdminAuthenticationForm(AdminAuthenticationForm):
    """The admin login form, saying when a login was refused by the lockout rather than by the password."""

    def clean(self):
        """Authenticate, with the lock's message when logins are locked."""
        _refusal.set(None)
        return super().clean()

    def get_invalid_login_error(self) -> ValidationError:
        """The lockout's message, else Django's usual one."""
        lock = _refusal.get()
        if lock is not None:
            return ValidationError(lock.message, code="locked")
        return super().get_invalid_login_error()


def _actor_of(user) -> Actor:
    principal = principal_from_user(user)
    return principal or Actor(name=user.get_username(), role="")


def _logged_in(sender, request: HttpRequest | None, user, **_kwargs) -> None:
    audit.record(_actor_of(user), LOGIN, _target(user.get_username()), ip=client_ip(request))


def _login_failed(sender, credentials: dict, request: HttpRequest | None = None, **_kwargs) -> None:
    username = credentials.get(get_user_model().USERNAME_FIELD) or credentials.get("username") or ""
    lock = _refusal.get()
    action = REFUSED if lock is not None else FAILED
    detail = {"lock": lock.reason, "until": lock.until} if lock is not None else {}
    audit.record(Actor(name=str(username)[:150], role=""), action, _target(str(username)), ip=client_ip(request),
                 **detail)


def _logged_out(sender, request: HttpRequest | None, user, **_kwargs) -> None:
    if user is not None:
        audit.record(_actor_of(user), LOGOUT, _target(user.get_username()), ip=client_ip(request))


def connect_signals() -> None:
    """Write logins, failures and logouts to the audit log (called from the app's ready())."""
    user_logged_in.connect(_logged_in, dispatch_uid="audit-login")
    user_login_failed.connect(_login_failed, dispatch_uid="audit-login-failed")
    user_logged_out.connect(_logged_out, dispatch_uid="audit-logout")
