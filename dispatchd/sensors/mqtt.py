"""The MQTT subscriber: sensor readings from a broker's topic tree into the ingest.

Settings (Django settings, else the environment): WALL_MQTT_URL (`mqtt://[user:pass@]host[:port]`, or
`mqtts://` for TLS; empty: off), WALL_MQTT_TOPIC (default `wall/sensors/+/reading`, the `+` level is the
sensor code), WALL_MQTT_CLIENT_ID (empty: a fresh id and a clean session; set: a persistent session, so
the broker keeps QoS 1 readings while we are away). The paho network thread reconnects by itself and
resubscribes on every connect; messages reach the event loop through a bounded queue and are stored one
message at a time, in order. A bad message is logged and counted (`STATS`), never more.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as paho
from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import close_old_connections
from paho.mqtt.enums import CallbackAPIVersion

from dispatchd.errors import DomainError
from dispatchd.sensors.payload import BadPayload, code_from_topic, parse

log = logging.getLogger("dispatchd.sensors.mqtt")

DEFAULT_TOPIC = "wall/sensors/+/reading"
QUEUE_MESSAGES = 10_000  # messages waiting for the database; beyond this they are dropped and counted
KEEPALIVE_S = 30


@dataclass
class Stats:
    """What the subscriber saw since the process started."""

    connects: int = 0
    subscribed: int = 0  # subscriptions the broker confirmed (one per connect)
    received: int = 0
    stored: int = 0  # readings accepted by the ingest
    refused: int = 0  # messages refused: bad payload, unknown sensor, impossible value
    failed: int = 0  # messages lost to an unexpected error (logged with its traceback)
    dropped: int = 0  # messages dropped because the queue was full


STATS = Stats()


@dataclass(frozen=True)
class BrokerConfig:
    """Where to connect and what to subscribe to."""

    host: str
    port: int
    topic: str
    username: str | None = None
    password: str | None = None
    tls: bool = False
    client_id: str = ""


def _setting(name: str, default: str) -> str:
    return str(getattr(settings, name, None) or os.environ.get(name) or default)


def broker_config(url: str | None = None, topic: str | None = None) -> BrokerConfig | None:
    """The broker from arguments or settings; None when MQTT is off; ValueError for a bad URL."""
    url = url if url is not None else _setting("WALL_MQTT_URL", "")
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("mqtt", "mqtts", "tcp", "ssl") or not parts.hostname:
        raise ValueError(f"WALL_MQTT_URL must look like mqtt://host:1883, not {url!r}")
    tls = parts.scheme in ("mqtts", "ssl")
    return BrokerConfig(
        host=parts.hostname, port=parts.port or (8883 if tls else 1883),
        topic=topic or _setting("WALL_MQTT_TOPIC", DEFAULT_TOPIC),
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        tls=tls, client_id=_setting("WALL_MQTT_CLIENT_ID", ""),
    )


def handle_message(topic: str, payload: bytes, pattern: str) -> dict[str, int] | None:
    """Store the readings of one message through the ingest; None (logged, counted) when refused."""
    from dispatchd import ingest

    STATS.received += 1
    close_old_connections()
    try:
        result = ingest.store_readings(parse(payload, code_from_topic(pattern, topic)))
    except (BadPayload, DomainError) as exc:
        STATS.refused += 1
        log.warning("MQTT %s: refused: %s", topic[:200], getattr(exc, "detail", exc))
        return None
    except Exception:
        STATS.failed += 1
        log.exception("MQTT %s: could not store the message", topic[:200])
        return None
    finally:
        close_old_connections()
    STATS.stored += result["accepted"]
    return result


class Subscriber:
    """A paho client on its own network thread, handing messages to an asyncio queue."""

    def __init__(self, config: BrokerConfig, loop: asyncio.AbstractEventLoop, queue: asyncio.Queue) -> None:
        self.config, self.loop, self.queue = config, loop, queue
        persistent = bool(config.client_id)
        client_id = config.client_id or f"wall-sensors-{os.getpid()}-{secrets.token_hex(4)}"
        self.client = paho.Client(CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=not persistent)
        self.client.suppress_exceptions = True
        self.client.reconnect_delay_set(min_delay=1, max_delay=30)
        if config.username:
            self.client.username_pw_set(config.username, config.password)
        if config.tls:
            self.client.tls_set()
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message
        self.client.on_subscribe = self._on_subscribe

    def start(self) -> None:
        """Connect in the background; the network thread retries until the broker answers."""
        self.client.connect_async(self.config.host, self.config.port, keepalive=KEEPALIVE_S)
        self.client.loop_start()

    def stop(self) -> None:
        """Disconnect and end the network thread."""
        self.client.disconnect()
        self.client.loop_stop()

    def _on_connect(self, client: paho.Client, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        if reason.is_failure:
            log.warning("MQTT broker %s:%s refused the connection: %s", self.config.host, self.config.port, reason)
            return
        STATS.connects += 1
        client.subscribe(self.config.topic, qos=1)
        log.info("MQTT connected to %s:%s, subscribed to %s", self.config.host, self.config.port, self.config.topic)

    def _on_subscribe(self, client: paho.Client, userdata: Any, mid: int, reasons: Any, properties: Any) -> None:
        if all(not r.is_failure for r in reasons):
            STATS.subscribed += 1
        else:
            log.error("MQTT broker refused the subscription to %s: %s", self.config.topic, reasons)

    def _on_disconnect(self, client: paho.Client, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        log.warning("MQTT disconnected (%s); reconnecting", reason)

    def _on_message(self, client: paho.Client, userdata: Any, message: paho.MQTTMessage) -> None:
        try:
            self.loop.call_soon_threadsafe(self._offer, message.topic, bytes(message.payload))
        except RuntimeError:  # the event loop is closing
            pass

    def _offer(self, topic: str, payload: bytes) -> None:
        try:
            self.queue.put_nowait((topic, payload))
        except asyncio.QueueFull:
            STATS.dropped += 1


async def run_mqtt(url: str | None = None, topic: str | None = None) -> None:
    """Ingest sensor readings from the MQTT broker until cancelled; returns at once when MQTT is off."""
    config = broker_config(url, topic)
    if config is None:
        log.info("MQTT ingest off (WALL_MQTT_URL is empty)")
        return
    queue: asyncio.Queue[tuple[str, bytes]] = asyncio.Queue(maxsize=QUEUE_MESSAGES)
    subscriber = Subscriber(config, asyncio.get_running_loop(), queue)
    subscriber.start()
    store = sync_to_async(handle_message, thread_sensitive=False)
    try:
        while True:
            message_topic, payload = await queue.get()
            await store(message_topic, payload, config.topic)
    finally:
        subscriber.stop()
