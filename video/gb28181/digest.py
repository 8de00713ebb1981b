"""HTTP Digest authentication for SIP REGISTER (RFC 2617 / RFC 7616 with MD5, as GB devices use it).

Supports ``qop=auth`` and the legacy no-qop form. Nonces are stateless (timestamp + HMAC) and need no
storage; expired nonces (or ones from before a restart) are answered with ``stale=true``. Repeated
failures lock a device id out for a while.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum


def md5_hex(text: str) -> str:
    """Lower-case hex MD5 of a UTF-8 string."""
    return hashlib.md5(text.encode("utf-8")).hexdigest()


def parse_digest(value: str) -> dict[str, str]:
    """Parse ``Digest a="b", c=d`` into {'a': 'b', 'c': 'd'} (keys lower-cased); {} if not Digest."""
    scheme, _, rest = value.strip().partition(" ")
    if scheme.lower() != "digest":
        return {}
    params: dict[str, str] = {}
    index, length = 0, len(rest)
    while index < length:
        while index < length and rest[index] in " ,\t":
            index += 1
        eq = rest.find("=", index)
        if eq < 0:
            break
        name = rest[index:eq].strip().lower()
        index = eq + 1
        if index < length and rest[index] == '"':
            end = index + 1
            chars: list[str] = []
            while end < length and rest[end] != '"':
                if rest[end] == "\\" and end + 1 < length:
                    end += 1
                chars.append(rest[end])
                end += 1
            params[name] = "".join(chars)
            index = end + 1
        else:
            end = rest.find(",", index)
            end = length if end < 0 else end
            params[name] = rest[index:end].strip()
            index = end
    return params


def digest_response(
    *,
    username: str,
    realm: str,
    password: str,
    method: str,
    uri: str,
    nonce: str,
    qop: str = "",
    nc: str = "",
    cnonce: str = "",
) -> str:
    """The ``response`` value: MD5(HA1:nonce[:nc:cnonce:qop]:HA2)."""
    ha1 = md5_hex(f"{username}:{realm}:{password}")
    ha2 = md5_hex(f"{method}:{uri}")
    if qop:
        return md5_hex(f"{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}")
    return md5_hex(f"{ha1}:{nonce}:{ha2}")


def authorization_header(challenge: dict[str, str], *, username: str, password: str, method: str, uri: str) -> str:
    """The client's Authorization value answering a parsed WWW-Authenticate challenge."""
    realm, nonce = challenge.get("realm", ""), challenge.get("nonce", "")
    offered = [q.strip() for q in challenge.get("qop", "").split(",") if q.strip()]
    qop = "auth" if "auth" in offered else ""
    nc, cnonce = ("00000001", secrets.token_hex(8)) if qop else ("", "")
    response = digest_response(
        username=username, realm=realm, password=password, method=method, uri=uri, nonce=nonce, qop=qop, nc=nc,
        cnonce=cnonce,
    )
    parts = [
        f'username="{username}"', f'realm="{realm}"', f'nonce="{nonce}"', f'uri="{uri}"',
        f'response="{response}"', "algorithm=MD5",
    ]
    if qop:
        parts += [f"qop={qop}", f"nc={nc}", f'cnonce="{cnonce}"']
    if "opaque" in challenge:
        parts.append(f'opaque="{challenge["opaque"]}"')
    return "Digest " + ", ".join(parts)


class AuthResult(Enum):
    """Outcome of checking an Authorization header."""

    OK = "ok"
    MISSING = "missing"  # no credentials: send a challenge
    STALE = "stale"  # right password, expired nonce: challenge again with stale=true
    BAD = "bad"  # wrong credentials: 403 and count a failure
    LOCKED = "locked"  # too many failures: 403 without looking


@dataclass
class Lockout:
    """Counts failures per device id; at `limit` failures within `window` the id is locked for `duration`."""

    limit: int = 5
    window: float = 300.0
    duration: float = 300.0
    clock: Callable[[], float] = time.monotonic
    max_tracked: int = 10_000
    _failures: dict[str, list[float]] = field(default_factory=dict)
    _locked_until: dict[str, float] = field(default_factory=dict)

    def is_locked(self, device_id: str) -> bool:
        """Whether the id is locked out now."""
        until = self._locked_until.get(device_id)
        if until is None:
            return False
        if self.clock() >= until:
            del self._locked_until[device_id]
            return False
        return True

    def record_failure(self, device_id: str) -> bool:
        """Count one failure; returns True when this locks the id out."""
        now = self.clock()
        recent = [t for t in self._failures.get(device_id, []) if now - t < self.window] + [now]
        if len(self._failures) >= self.max_tracked and device_id not in self._failures:
            self._failures.pop(next(iter(self._failures)))
        self._failures[device_id] = recent
        if len(recent) >= self.limit:
            self._locked_until[device_id] = now + self.duration
            self._failures.pop(device_id, None)
            return True
        return False

    def record_success(self, device_id: str) -> None:
        """Forget the id's failures."""
        self._failures.pop(device_id, None)


class DigestAuthenticator:
    """Issues challenges and verifies REGISTER credentials for one realm."""

    def __init__(
        self,
        realm: str,
        *,
        nonce_ttl: float = 300.0,
        lockout: Lockout | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.realm = realm
        self.nonce_ttl = nonce_ttl
        self.lockout = lockout or Lockout()
        self.clock = clock
        self._secret = secrets.token_bytes(32)
        self.opaque = secrets.token_hex(8)

    def new_nonce(self) -> str:
        """A nonce carrying its issue time, signed so that it cannot be forged."""
        stamp = f"{int(self.clock()):x}"
        return stamp + hmac.new(self._secret, stamp.encode(), hashlib.sha256).hexdigest()[:24]

    def _nonce_state(self, nonce: str) -> str:
        stamp, signature = nonce[:-24], nonce[-24:]
        expected = hmac.new(self._secret, stamp.encode(), hashlib.sha256).hexdigest()[:24]
        if not stamp or not hmac.compare_digest(signature, expected):
            return "forged"
        try:
            issued = int(stamp, 16)
        except ValueError:
            return "forged"
        return "fresh" if 0 <= self.clock() - issued <= self.nonce_ttl else "stale"

    def challenge(self, stale: bool = False) -> str:
        """A WWW-Authenticate value (qop=auth offered; devices without qop support still work)."""
        value = (
            f'Digest realm="{self.realm}", nonce="{self.new_nonce()}", opaque="{self.opaque}", '
            'algorithm=MD5, qop="auth"'
        )
        return value + ", stale=true" if stale else value

    def verify(self, device_id: str, authorization: str | None, method: str, password: str) -> AuthResult:
        """Check an Authorization header for `device_id`; failures count towards lockout."""
        if self.lockout.is_locked(device_id):
            return AuthResult.LOCKED
        params = parse_digest(authorization or "")
        if not params:
            return AuthResult.MISSING
        nonce = params.get("nonce", "")
        expected = digest_response(
            username=params.get("username", ""),
            realm=params.get("realm", ""),
            password=password,
            method=method,
            uri=params.get("uri", ""),
            nonce=nonce,
            qop=params.get("qop", ""),
            nc=params.get("nc", ""),
            cnonce=params.get("cnonce", ""),
        )
        valid = (
            params.get("username") == device_id
            and params.get("realm") == self.realm
            and params.get("algorithm", "MD5").upper() == "MD5"
            and params.get("qop", "auth") == "auth"
            and hmac.compare_digest(params.get("response", "").lower(), expected)
        )
        state = self._nonce_state(nonce)
        if valid and state == "fresh":
            self.lockout.record_success(device_id)
            return AuthResult.OK
        if valid:  # right password on an expired (or pre-restart) nonce: challenge again
            return AuthResult.STALE
        return AuthResult.LOCKED if self.lockout.record_failure(device_id) else AuthResult.BAD
