"""Digest authentication and lockout."""

from __future__ import annotations

from video.gb28181.digest import (
    AuthResult,
    DigestAuthenticator,
    Lockout,
    authorization_header,
    digest_response,
    parse_digest,
)

DEVICE = "34020000001320000001"
URI = "sip:34020000002000000001@3402000000"


class FakeClock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def answer(auth: DigestAuthenticator, password: str, *, qop: bool = True, username: str = DEVICE) -> str:
    challenge = parse_digest(auth.challenge())
    if not qop:
        challenge.pop("qop")
    return authorization_header(challenge, username=username, password=password, method="REGISTER", uri=URI)


def test_rfc2617_example_response():
    # The worked example of RFC 2617 section 3.5.
    assert digest_response(
        username="Mufasa", realm="testrealm@host.com", password="Circle Of Life", method="GET",
        uri="/dir/index.html", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", qop="auth", nc="00000001",
        cnonce="0a4f113b",
    ) == "6629fae49393a05397450978507c4ef1"


def test_challenge_is_parseable_and_offers_qop_auth():
    params = parse_digest(DigestAuthenticator("3402000000").challenge(stale=True))
    assert params["realm"] == "3402000000" and params["qop"] == "auth" and params["algorithm"] == "MD5"
    assert params["stale"] == "true" and params["nonce"]


def test_right_password_with_and_without_qop_is_accepted():
    auth = DigestAuthenticator("3402000000")
    assert auth.verify(DEVICE, answer(auth, "secret"), "REGISTER", "secret") is AuthResult.OK
    assert auth.verify(DEVICE, answer(auth, "secret", qop=False), "REGISTER", "secret") is AuthResult.OK


def test_missing_wrong_and_foreign_credentials():
    auth = DigestAuthenticator("3402000000")
    assert auth.verify(DEVICE, None, "REGISTER", "secret") is AuthResult.MISSING
    assert auth.verify(DEVICE, "Basic abc", "REGISTER", "secret") is AuthResult.MISSING
    assert auth.verify(DEVICE, answer(auth, "wrong"), "REGISTER", "secret") is AuthResult.BAD
    other = answer(auth, "secret", username="34020000001320000099")
    assert auth.verify(DEVICE, other, "REGISTER", "secret") is AuthResult.BAD


def test_expired_or_unknown_nonce_with_the_right_password_is_stale():
    clock = FakeClock()
    auth = DigestAuthenticator("3402000000", nonce_ttl=60, clock=clock)
    header = answer(auth, "secret")
    clock.now += 61
    assert auth.verify(DEVICE, header, "REGISTER", "secret") is AuthResult.STALE
    restarted = DigestAuthenticator("3402000000", clock=clock)  # another secret: nonce from before a restart
    assert restarted.verify(DEVICE, answer(auth, "secret"), "REGISTER", "secret") is AuthResult.STALE


def test_repeated_failures_lock_the_device_out_until_the_lock_expires():
    clock = FakeClock()
    auth = DigestAuthenticator("3402000000", lockout=Lockout(limit=3, window=60, duration=120, clock=clock))
    results = [auth.verify(DEVICE, answer(auth, "wrong"), "REGISTER", "secret") for _ in range(3)]
    assert results == [AuthResult.BAD, AuthResult.BAD, AuthResult.LOCKED]
    assert auth.verify(DEVICE, answer(auth, "secret"), "REGISTER", "secret") is AuthResult.LOCKED
    assert auth.verify("34020000001320000002", answer(auth, "s", username="34020000001320000002"), "REGISTER",
                       "s") is AuthResult.OK
    clock.now += 121
    assert auth.verify(DEVICE, answer(auth, "secret"), "REGISTER", "secret") is AuthResult.OK


def test_failures_outside_the_window_do_not_add_up():
    clock = FakeClock()
    lockout = Lockout(limit=2, window=10, duration=100, clock=clock)
    assert not lockout.record_failure(DEVICE)
    clock.now += 11
    assert not lockout.record_failure(DEVICE)
    assert lockout.record_failure(DEVICE)
    assert lockout.is_locked(DEVICE)


def test_parse_digest_handles_quotes_commas_and_escapes():
    params = parse_digest('Digest username="a,b", realm="r\\"x", nc=00000001, qop=auth')
    assert params == {"username": "a,b", "realm": 'r"x', "nc": "00000001", "qop": "auth"}
