"""Settings of the GB/T 28181 platform, passed in as a dataclass (the caller maps them from Django/env)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class GbSettings:
    """Our platform identity, sockets, credentials and timers."""

    platform_id: str = "34020000002000000001"
    domain: str = "3402000000"
    host: str = "127.0.0.1"
    sip_port: int = 5060
    media_host: str = "127.0.0.1"
    password: str = "12345678"
    nonce_ttl: float = 300.0
    lockout_failures: int = 5
    lockout_window: float = 300.0
    lockout_seconds: float = 300.0
    register_expires_default: int = 3600
    keepalive_interval: float = 60.0
    keepalive_misses: int = 3
    catalog_timeout: float = 10.0
    request_timeout: float = 5.0
    sip_t1: float = 0.5

    def __post_init__(self) -> None:
        if len(self.platform_id) != 20 or not self.platform_id.isdigit():
            raise ValueError("platform_id must be 20 digits")
        if not self.domain or not self.domain.isdigit() or len(self.domain) not in (8, 10):
            raise ValueError("domain must be 8 or 10 digits")
        if self.lockout_failures < 1 or self.keepalive_misses < 1 or self.keepalive_interval <= 0:
            raise ValueError("lockout_failures, keepalive_misses and keepalive_interval must be positive")

    @property
    def offline_after(self) -> float:
        """Seconds without a keepalive after which a device is offline."""
        return self.keepalive_interval * self.keepalive_misses
