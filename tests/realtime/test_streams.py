"""Stream semantics shared by the in-process and Redis backends: gap-free offsets, bounds, epochs."""

from __future__ import annotations

import threading
import time

import pytest
import redis

from realtime.envelope import parse_since
from realtime.memory import MemoryStreams
from realtime.redis_streams import AsyncRedisStreams, RedisStreams, log_key, meta_key
from realtime.subscription import covers


def _events(n: int, start: int = 0) -> list[dict]:
    return [{"type": "case.created", "data": {"n": start + i}} for i in range(n)]


def test_memory_offsets_are_gap_free_across_threads() -> None:
    streams = MemoryStreams(maxlen=10_000, max_age_s=3600)
    threads = [
        threading.Thread(target=lambda: [streams.append_many("cases", _events(1)) for _ in range(500)])
        for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    page = streams.read("cases", 0, 10_000)
    assert page.head == 2000
    assert [event.offset for event in page.events] == list(range(1, 2001))


def test_memory_history_is_bounded_by_length_and_reports_what_it_lost() -> None:
    streams = MemoryStreams(maxlen=10, max_age_s=3600)
    streams.append_many("cases", _events(25))
    page = streams.read("cases", 3, 100)
    assert [event.offset for event in page.events] == list(range(16, 26))
    assert not covers(page, (page.epoch, 3))
    assert covers(streams.read("cases", 15, 100), (page.epoch, 15))


def test_memory_history_is_bounded_by_age() -> None:
    streams = MemoryStreams(maxlen=100, max_age_s=0.0)
    streams.append_many("cases", _events(3))
    page = streams.read("cases", 0, 100)
    assert page.head == 3 and page.events == []
    assert not covers(page, (page.epoch, 0))


def test_memory_listener_gets_each_appended_event() -> None:
    streams = MemoryStreams(maxlen=100, max_age_s=3600)
    got: list[int] = []
    streams.add_listener(lambda topic, events: got.extend(e.offset for e in events))
    streams.append_many("alarms", _events(3))
    assert got == [1, 2, 3]


def test_event_frames_carry_position_and_payload() -> None:
    streams = MemoryStreams(maxlen=100, max_age_s=3600)
    streams.append_many("cases", [{"type": "case.dispatched", "data": {"id": 7, "名": "街道"}}])
    event = streams.read("cases", 0, 1).events[0]
    assert event.payload["op"] == "event"
    assert event.payload["topic"] == "cases"
    assert (event.payload["epoch"], event.payload["offset"]) == (streams.epoch, 1)
    assert event.payload["type"] == "case.dispatched"
    assert event.payload["data"] == {"id": 7, "名": "街道"}


@pytest.mark.parametrize("bad", [{"data": {}}, {"type": 3}, {"type": "x", "data": [1]}, "x"])
def test_malformed_events_are_refused_before_anything_is_stored(bad: object) -> None:
    streams = MemoryStreams(maxlen=100, max_age_s=3600)
    with pytest.raises(ValueError):
        streams.append_many("cases", [bad])  # type: ignore[list-item]
    assert streams.read("cases", 0, 10).head == 0


def test_redis_offsets_are_gap_free_across_producers(redis_url: str) -> None:
    producers = [RedisStreams(redis_url, maxlen=10_000, max_age_s=3600) for _ in range(3)]
    threads = [
        threading.Thread(target=lambda s=s: [s.append_many("cases", _events(2)) for _ in range(100)]) for s in producers
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    ids = [entry_id for entry_id, _ in client.xrange(log_key("cases"))]
    assert ids == [f"{n}-0" for n in range(1, 601)]
    for producer in producers:
        producer.close()


async def test_redis_read_reports_head_epoch_and_trimmed_history(redis_url: str) -> None:
    producer = RedisStreams(redis_url, maxlen=10, max_age_s=3600)
    producer.append_many("cases", _events(500))
    streams = AsyncRedisStreams(redis_url, maxlen=10, max_age_s=3600)
    page = await streams.read("cases", 1, 100)
    assert page.head == 500
    assert page.events and page.events[0].offset > 2
    assert not covers(page, (page.epoch, 1))
    assert covers(await streams.read("cases", 500, 100), (page.epoch, 500))
    await streams.close()
    producer.close()


async def test_redis_history_lost_means_a_new_epoch(redis_url: str) -> None:
    producer = RedisStreams(redis_url, maxlen=100, max_age_s=3600)
    producer.append_many("cases", _events(5))
    streams = AsyncRedisStreams(redis_url, maxlen=100, max_age_s=3600)
    before = await streams.read("cases", None, 0)
    redis.Redis.from_url(redis_url).delete(meta_key("cases"), log_key("cases"))
    assert producer.append_many("cases", _events(1)) == 1
    after = await streams.read("cases", 0, 10)
    assert after.epoch != before.epoch
    assert not covers(after, (before.epoch, 5))
    await streams.close()
    producer.close()


async def test_redis_history_is_bounded_by_age(redis_url: str) -> None:
    producer = RedisStreams(redis_url, maxlen=10_000, max_age_s=0.2)
    for _ in range(12):
        producer.append_many("cases", _events(32))
        time.sleep(0.05)
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    ids = [entry_id for entry_id, _ in client.xrange(log_key("cases"))]
    assert ids[-1] == "384-0"
    assert len(ids) < 384
    producer.close()


@pytest.mark.parametrize("value", ["", "abc", "a:b", "A:1", ":3", "x:-1", 5, "x:1:2", "x:" + "9" * 30])
def test_since_must_be_epoch_colon_offset(value: object) -> None:
    with pytest.raises(ValueError):
        parse_since(value)


def test_since_parses() -> None:
    assert parse_since("mx3k:42") == ("mx3k", 42)
    assert parse_since(None) is None
