"""MQTT ingest: payload parsing, and readings → alarm → case end to end through a real Mosquitto."""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import socket
import subprocess
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from asgiref.sync import sync_to_async
from django.db import connections
from django.utils import timezone
from paho.mqtt import publish

from dispatchd.models import Alarm, SensorReading
from dispatchd.sensors import mqtt
from dispatchd.sensors.payload import BadPayload, code_from_topic, parse

BROKER = ("127.0.0.1", 1883)  # the test machine's Mosquitto
NOW = datetime(2025, 9, 30, 1, 0, tzinfo=UTC)


# --- payloads -----------------------------------------------------------------------------------------


def test_the_sensor_code_comes_from_the_plus_level_of_the_topic():
    assert code_from_topic("wall/sensors/+/reading", "wall/sensors/RQ-001/reading") == "RQ-001"
    assert code_from_topic("a/+/b/+", "a/X/b/Y") == "X"
    assert code_from_topic("wall/sensors/batch", "wall/sensors/batch") is None


def test_one_reading_a_list_or_items_are_accepted():
    at = "2025-09-30T09:00:00+08:00"
    one = parse(b'{"value": 3.5, "at": "2025-09-30T09:00:00+08:00"}', "RQ-001")
    assert one == [{"sensor": "RQ-001", "value": 3.5, "at": datetime.fromisoformat(at)}]
    assert parse(b'{"value": 3}', "RQ-001", now=NOW)[0]["at"] == NOW  # no time: the time of receipt
    assert parse(json.dumps({"value": 1, "at": NOW.timestamp()}).encode(), "RQ-001")[0]["at"] == NOW
    batch = parse(json.dumps([{"value": 1, "at": at}, {"value": 2, "at": at}]).encode(), "RQ-001")
    assert [i["value"] for i in batch] == [1.0, 2.0]
    items = parse(json.dumps({"items": [{"sensor": "ZS-1", "value": 60}]}).encode(), None, now=NOW)
    assert items == [{"sensor": "ZS-1", "value": 60.0, "at": NOW}]


BAD_PAYLOADS = [
    b"",
    b"not json",
    b"\xff\xfe\x00",
    b"[" * 100_000,
    b"x" * (300 * 1024),
    b"42",
    b"[]",
    b'{"value": "high"}',
    b'{"value": true}',
    b'{"value": NaN}',
    b'{"value": Infinity}',
    b'{"value": 1e300}',
    b'{"temperature": 1}',
    b'{"value": 1, "extra": 2}',
    b'{"value": 1, "sensor": "OTHER"}',
    b'{"value": 1, "at": "yesterday"}',
    b'{"value": 1, "at": 1e20}',
    b'{"value": 1, "at": "0001-01-01T00:00:00"}',
    b'{"items": "x"}',
    json.dumps([{"value": 1}] * 5001).encode(),
]


@pytest.mark.parametrize("payload", BAD_PAYLOADS, ids=lambda p: repr(p[:24]))
def test_a_bad_payload_is_a_bad_payload_and_nothing_else(payload):
    with pytest.raises(BadPayload):
        parse(payload, "RQ-001")


def test_a_bad_sensor_code_in_the_topic_is_refused():
    with pytest.raises(BadPayload):
        parse(b'{"value": 1}', "X" * 33)
    with pytest.raises(BadPayload):
        parse(b'{"value": 1}', None)  # no code in the topic and none in the item


# --- end to end -----------------------------------------------------------------------------------------


async def until(condition: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
    """Wait until `condition()` (run in a thread: it may query the database) holds; fail after `timeout` s."""

    def checked() -> bool:
        try:
            return condition()
        finally:
            connections.close_all()  # the worker thread's own connections

    check = sync_to_async(checked, thread_sensitive=False)
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            pytest.fail(f"gave up waiting for {what}")
        await asyncio.sleep(0.05)


@contextlib.asynccontextmanager
async def subscriber(host: str, port: int, pattern: str) -> AsyncIterator[asyncio.Task]:
    """run_mqtt() as a task, once its subscription is confirmed; cancelled on the way out."""
    subscribed = mqtt.STATS.subscribed
    task = asyncio.create_task(mqtt.run_mqtt(f"mqtt://{host}:{port}", pattern))
    try:
        await until(lambda: mqtt.STATS.subscribed > subscribed or task.done(), "the subscription")
        assert not task.done(), task.exception()
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def send(host: str, port: int, messages: list[tuple[str, bytes]]) -> None:
    """Publish `messages` (QoS 1) with a separate client."""
    await asyncio.to_thread(
        publish.multiple, [{"topic": t, "payload": p, "qos": 1} for t, p in messages], hostname=host, port=port
    )


@pytest.fixture
async def closing_connections() -> AsyncIterator[None]:
    """Close the database connection of the thread that runs the async ORM calls, so teardown can drop the db."""
    yield
    await sync_to_async(connections.close_all)()


@pytest.fixture
def prefix() -> str:
    """A topic prefix of this test alone on the shared broker."""
    return f"walltest-{uuid.uuid4().hex[:12]}"


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("closing_connections")
async def test_mqtt_reading_raises_an_alarm_that_opens_a_case(gas_sensor, gas_category, rule, prefix, events):
    await sync_to_async(rule)(repeat=2, severity="major", case_category="SJ0403")
    topic = f"{prefix}/sensors/{gas_sensor.code}/reading"
    now = timezone.now()
    stored = mqtt.STATS.stored
    async with subscriber(*BROKER, f"{prefix}/sensors/+/reading") as task:
        await send(*BROKER, [
            (topic, json.dumps({"value": 26.5, "at": (now - timedelta(seconds=20)).isoformat()}).encode()),
            (topic, json.dumps([{"value": 31, "at": (now - timedelta(seconds=10)).timestamp()}]).encode()),
        ])
        await until(lambda: mqtt.STATS.stored - stored == 2, "both readings stored and announced")
        assert not task.done()

    alarm = await Alarm.objects.select_related("case").aget()
    case = alarm.case
    assert (alarm.state, alarm.value, alarm.sensor_id) == ("raised", 31, gas_sensor.id)
    assert (case.source, case.category_id, case.grid_id) == ("sensor", gas_category.id, gas_sensor.grid_id)
    assert (case.lat, case.lon) == (gas_sensor.lat, gas_sensor.lon)
    assert await SensorReading.objects.acount() == 2
    assert [e["id"] for e in events.data("alarm.raised", topic="alarms")] == [alarm.id]
    assert [e["id"] for e in events.data("case.created")] == [case.id]
    assert events.data("sensor.reading", topic="sensors")[-1]["value"] == 31


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("closing_connections")
async def test_bad_mqtt_payloads_are_counted_and_ignored(gas_sensor, rule, prefix):
    await sync_to_async(rule)()
    topic = f"{prefix}/sensors/{gas_sensor.code}/reading"
    bad = [(topic, p) for p in BAD_PAYLOADS[:4] + BAD_PAYLOADS[5:]]  # the broker may refuse 300 KiB
    bad += [(topic, b'{"value": 150}'), (f"{prefix}/sensors/NO-SUCH/reading", b'{"value": 1}')]
    good = (topic, json.dumps({"value": 3}).encode())
    before = mqtt.Stats(**vars(mqtt.STATS))
    async with subscriber(*BROKER, f"{prefix}/sensors/+/reading") as task:
        await send(*BROKER, [*bad, good])
        handled = lambda: mqtt.STATS.refused + mqtt.STATS.stored - before.refused - before.stored  # noqa: E731
        await until(lambda: handled() == len(bad) + 1, "every message handled")
        assert not task.done()
    assert (mqtt.STATS.refused - before.refused, mqtt.STATS.stored - before.stored) == (len(bad), 1)
    assert mqtt.STATS.failed == before.failed and mqtt.STATS.received - before.received == len(bad) + 1
    assert [r.value async for r in SensorReading.objects.all()] == [3.0]
    assert await Alarm.objects.acount() == 0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def private_broker(tmp_path: Path) -> Iterator[Callable[[], subprocess.Popen]]:
    """A factory starting a Mosquitto of this test alone on one loopback port (restartable)."""
    if shutil.which("mosquitto") is None:
        pytest.skip("mosquitto is not installed")
    port = _free_port()
    config = tmp_path / "mosquitto.conf"
    config.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n")
    started: list[subprocess.Popen] = []

    def start() -> subprocess.Popen:
        process = subprocess.Popen(["mosquitto", "-c", str(config)], stderr=subprocess.DEVNULL)
        started.append(process)
        return process

    start.port = port  # type: ignore[attr-defined]
    yield start
    for process in started:
        process.terminate()
        process.wait(timeout=10)


def _accepting(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
        return True
    return False


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("closing_connections")
async def test_the_subscriber_reconnects_after_the_broker_restarts(gas_sensor, private_broker, prefix):
    port = private_broker.port
    broker = private_broker()
    await until(lambda: _accepting(port), "the private broker")
    topic = f"{prefix}/sensors/{gas_sensor.code}/reading"
    async with subscriber("127.0.0.1", port, f"{prefix}/sensors/+/reading"):
        await send("127.0.0.1", port, [(topic, b'{"value": 1}')])
        await until(lambda: SensorReading.objects.count() == 1, "the first reading")
        subscribed = mqtt.STATS.subscribed
        broker.terminate()
        await asyncio.to_thread(broker.wait, 10)
        private_broker()
        await until(lambda: mqtt.STATS.subscribed > subscribed, "the subscription after the restart")
        await send("127.0.0.1", port, [(topic, b'{"value": 2}')])
        await until(lambda: SensorReading.objects.count() == 2, "the reading after the restart")


async def test_run_mqtt_returns_at_once_when_no_broker_is_set(settings):
    settings.WALL_MQTT_URL = ""
    await asyncio.wait_for(mqtt.run_mqtt(), timeout=5)


def test_a_broker_url_is_checked():
    config = mqtt.broker_config("mqtts://user:p%40ss@broker.local", "x/+/y")
    assert (config.host, config.port, config.tls, config.username, config.password) == (
        "broker.local", 8883, True, "user", "p@ss"
    )
    with pytest.raises(ValueError):
        mqtt.broker_config("http://broker.local")
