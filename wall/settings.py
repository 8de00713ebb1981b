"""Settings, read from the environment (12-factor)."""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent


def _env_bool(name: str, default: bool) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


def _env_float(name: str, default: float) -> float:
    return float(os.environ.get(name, default))


DATA_DIR = Path(os.environ.get("WALL_DATA_DIR", BASE_DIR / "data")).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)

SECRET_KEY = os.environ.get("SECRET_KEY", "dev-insecure-change-me-" + "x" * 32)
DEBUG = _env_bool("WALL_DEBUG", False)
ALLOWED_HOSTS = [h.strip() for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]").split(",") if h]
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()
]

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "wall.apps.WallConfig",
    "dispatchd.apps.DispatchdConfig",
]

MIDDLEWARE = [
    "wall.middleware.BodySizeLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "wall.middleware.AuditContextMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

# Security (docs/operations.md "Security"). Logins go through the lockout backend; the failures it counts are
# audit entries, shared by every process: per username within the window, and per client address.
AUTHENTICATION_BACKENDS = ["wall.logins.LockoutBackend"]
WALL_LOGIN_MAX_FAILURES = int(os.environ.get("WALL_LOGIN_MAX_FAILURES", 5))
WALL_LOGIN_MAX_FAILURES_PER_IP = int(os.environ.get("WALL_LOGIN_MAX_FAILURES_PER_IP", 20))
WALL_LOGIN_WINDOW_S = _env_float("WALL_LOGIN_WINDOW_S", 15 * 60)
WALL_LOGIN_LOCKOUT_S = _env_float("WALL_LOGIN_LOCKOUT_S", 15 * 60)
# Cookies only over HTTPS (set when the site is served over TLS); the session cookie never reaches scripts.
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = _env_bool("WALL_SECURE_COOKIES", False)
SESSION_COOKIE_HTTPONLY = True
# Behind a reverse proxy that sets X-Forwarded-For to the client's address (nginx: `$remote_addr`, not
# `$proxy_add_x_forwarded_for`): login limits and the audit log then see clients, not the proxy. Only when the
# web ports are reachable from the proxy alone, since any client could send the header.
WALL_PROXY_HEADERS = _env_bool("WALL_PROXY_HEADERS", False)
# Daphne's TCP connections send a frame at once when nothing is queued (wall/tcp_writes.py), instead of
# waiting for the next event-loop turn; off gives Twisted's own buffered writes.
WALL_TCP_EAGER_WRITES = _env_bool("WALL_TCP_EAGER_WRITES", True)
SESSION_COOKIE_SAMESITE = CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Extra Content-Security-Policy sources for the pages (space separated), e.g. a map tile server's origin is
# added to img-src by itself from WALL_TILE_URL; these are for anything else a deployment needs.
WALL_CSP_EXTRA_IMG_SRC = os.environ.get("WALL_CSP_EXTRA_IMG_SRC", "")
WALL_CSP_EXTRA_CONNECT_SRC = os.environ.get("WALL_CSP_EXTRA_CONNECT_SRC", "")

ROOT_URLCONF = "wall.urls"
ASGI_APPLICATION = "wall.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASE_URL = os.environ.get("DATABASE_URL") or f"sqlite:///{DATA_DIR / 'wall.sqlite3'}"
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=0)}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # WAL lets readers run beside the single writer; the timeout waits out short write locks.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # A file, not memory, so that tests with several threads or processes share one test database.
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test.sqlite3")}

REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL], "capacity": 1000, "expiry": 30},
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
LANGUAGE_CODE = "zh-hans"
TIME_ZONE = os.environ.get("WALL_TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
MEDIA_URL = "/media/"
MEDIA_ROOT = DATA_DIR / "media"

# Request bodies above this size are refused with 413 before they are read.
WALL_MAX_BODY_BYTES = int(os.environ.get("WALL_MAX_BODY_BYTES", 5 * 1024 * 1024))
DATA_UPLOAD_MAX_MEMORY_SIZE = WALL_MAX_BODY_BYTES
# An attachment (case photo, document) may be at most this large (also bounded by WALL_MAX_BODY_BYTES).
WALL_MAX_UPLOAD_BYTES = int(os.environ.get("WALL_MAX_UPLOAD_BYTES", 10 * 1024 * 1024))
# Duplicate suggestion: same category within this distance and time window.
WALL_DUPLICATE_RADIUS_M = _env_float("WALL_DUPLICATE_RADIUS_M", 50.0)
WALL_DUPLICATE_WINDOW_H = _env_float("WALL_DUPLICATE_WINDOW_H", 24.0)
# SLA thresholds as fractions of the stage limit.
WALL_SLA_WARN_FRACTION = _env_float("WALL_SLA_WARN_FRACTION", 0.8)
WALL_SLA_ESCALATE_FRACTION = _env_float("WALL_SLA_ESCALATE_FRACTION", 2.0)
# How often the dispatch daemon looks for due timers (seconds).
WALL_DAEMON_INTERVAL_S = _env_float("WALL_DAEMON_INTERVAL_S", 2.0)
# Working day used by working-hours timers: "HH:MM-HH:MM" ranges, comma separated.
WALL_WORKING_HOURS = os.environ.get("WALL_WORKING_HOURS", "08:30-12:00,14:00-18:00")
# Map tiles: empty means the shipped offline basemap only.
WALL_TILE_URL = os.environ.get("WALL_TILE_URL", "")
# Nearest workers re-ranked by travel time over this road graph file (dispatchd/geo/roads.py); empty: straight line.
WALL_ROAD_GRAPH = os.environ.get("WALL_ROAD_GRAPH", "")
WALL_ROAD_ACCESS_SPEED_MPS = _env_float("WALL_ROAD_ACCESS_SPEED_MPS", 1.4)  # the leg between a point and its node

# The real-time hub (realtime/): stream bounds, delivery limits, auth. See docs/protocol.md.
WALL_HUB_STREAM_MAXLEN = int(os.environ.get("WALL_HUB_STREAM_MAXLEN", 20_000))
WALL_HUB_STREAM_MAX_AGE_S = _env_float("WALL_HUB_STREAM_MAX_AGE_S", 3600.0)
WALL_HUB_TICK_S = _env_float("WALL_HUB_TICK_S", 0.5)
WALL_HUB_HEARTBEAT_S = _env_float("WALL_HUB_HEARTBEAT_S", 10.0)
WALL_HUB_AUTH_TIMEOUT_S = _env_float("WALL_HUB_AUTH_TIMEOUT_S", 5.0)
WALL_HUB_MAX_FRAME_BYTES = int(os.environ.get("WALL_HUB_MAX_FRAME_BYTES", 64 * 1024))
WALL_HUB_QUEUE_FRAMES = int(os.environ.get("WALL_HUB_QUEUE_FRAMES", 2000))
WALL_HUB_SEND_WINDOW_BYTES = int(os.environ.get("WALL_HUB_SEND_WINDOW_BYTES", 1024 * 1024))
WALL_HUB_OPS_PER_S = _env_float("WALL_HUB_OPS_PER_S", 20.0)
WALL_HUB_OPS_BURST = int(os.environ.get("WALL_HUB_OPS_BURST", 60))
WALL_HUB_MAX_SUBSCRIPTIONS = int(os.environ.get("WALL_HUB_MAX_SUBSCRIPTIONS", 64))
# Position batches: items per frame part, and how much unacknowledged position data a connection may have
# in flight (events have priority and may use the whole send window).
WALL_HUB_BATCH_PART_ITEMS = int(os.environ.get("WALL_HUB_BATCH_PART_ITEMS", 500))
WALL_HUB_POSITION_WINDOW_BYTES = int(os.environ.get("WALL_HUB_POSITION_WINDOW_BYTES", 256 * 1024))
# A batch's parts are spread evenly over this long, so the clients' batches do not reach the network, and the
# screens, in one burst that case events would queue behind.
WALL_HUB_POSITION_SPREAD_S = _env_float("WALL_HUB_POSITION_SPREAD_S", 0.25)
# Resolves a first-frame token to a principal (or None); a dotted path so realtime stays import-free.
WALL_HUB_AUTHENTICATOR = os.environ.get("WALL_HUB_AUTHENTICATOR", "wall.auth.authenticate_token")
WALL_HUB_TOKEN_RECHECK_S = _env_float("WALL_HUB_TOKEN_RECHECK_S", 30.0)  # a revoked token's socket closes within
# Position ingest from the field app over the hub (`position`/`positions` ops of a worker): the function
# the fixes go to (the REST batch ingest's), its rate per connection, batch size and threads per process.
WALL_HUB_POSITION_SINK = os.environ.get("WALL_HUB_POSITION_SINK", "dispatchd.ingest.store_positions")
WALL_HUB_POSITION_OPS_PER_S = _env_float("WALL_HUB_POSITION_OPS_PER_S", 2.0)
WALL_HUB_POSITION_OPS_BURST = int(os.environ.get("WALL_HUB_POSITION_OPS_BURST", 10))
WALL_HUB_POSITION_BATCH_MAX = int(os.environ.get("WALL_HUB_POSITION_BATCH_MAX", 100))
WALL_HUB_POSITION_CONCURRENCY = int(os.environ.get("WALL_HUB_POSITION_CONCURRENCY", 4))

# Sensor readings over MQTT (dispatchd/sensors/mqtt.py): broker URL (empty: off), topic filter, client id
# (set one for a persistent session that keeps messages queued while the subscriber is down).
WALL_MQTT_URL = os.environ.get("WALL_MQTT_URL", "")
WALL_MQTT_TOPIC = os.environ.get("WALL_MQTT_TOPIC", "wall/sensors/+/reading")
WALL_MQTT_CLIENT_ID = os.environ.get("WALL_MQTT_CLIENT_ID", "")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("WALL_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.request": {"level": "ERROR"},
        "daphne": {"level": "WARNING"},
    },
}

# GB/T 28181 (video/gb28181/): our platform's identity, SIP and media sockets, device password, relay timers.
# The demo district's centre code is 44039900, so the platform is 4403990000 200 0 000001.
WALL_GB_PLATFORM_ID = os.environ.get("WALL_GB_PLATFORM_ID", "44039900002000000001")
WALL_GB_DOMAIN = os.environ.get("WALL_GB_DOMAIN", "4403990000")
WALL_GB_HOST = os.environ.get("WALL_GB_HOST", "127.0.0.1")  # SIP listens here (UDP and TCP)
WALL_GB_SIP_PORT = int(os.environ.get("WALL_GB_SIP_PORT", 5060))
WALL_GB_MEDIA_HOST = os.environ.get("WALL_GB_MEDIA_HOST", "127.0.0.1")  # RTP from cameras arrives here
WALL_GB_MEDIA_TRANSPORT = os.environ.get("WALL_GB_MEDIA_TRANSPORT", "UDP")  # UDP, TCP-passive or TCP-active
WALL_GB_PASSWORD = os.environ.get("WALL_GB_PASSWORD", "12345678")  # digest password of every device
WALL_GB_KEEPALIVE_S = _env_float("WALL_GB_KEEPALIVE_S", 60.0)
WALL_GB_GRACE_S = _env_float("WALL_GB_GRACE_S", 10.0)  # BYE this long after a camera's last viewer left
WALL_GB_MAX_VIEWERS = int(os.environ.get("WALL_GB_MAX_VIEWERS", 256))  # WebRTC viewer sessions per sip process
# ICE host candidates offered to browsers (comma separated); empty: every non-loopback interface.
WALL_GB_ICE_HOSTS = os.environ.get("WALL_GB_ICE_HOSTS", "")
# Production: the address of the `sip` process's HTTP server, to which web processes forward camera play requests.
WALL_GB_RELAY_URL = os.environ.get("WALL_GB_RELAY_URL", "")
WALL_GB_RELAY_TIMEOUT_S = _env_float("WALL_GB_RELAY_TIMEOUT_S", 15.0)
WALL_GB_HTTP_HOST = os.environ.get("WALL_GB_HTTP_HOST", "127.0.0.1")  # where `wall sip` serves HTTP
WALL_GB_HTTP_PORT = int(os.environ.get("WALL_GB_HTTP_PORT", 8061))
