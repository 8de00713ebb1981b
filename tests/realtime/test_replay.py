"""Resume semantics against a real `wall serve` on real Redis: exact replay, or recovered:false."""

from __future__ import annotations

import asyncio
import random
import threading

import redis

from realtime.client import HubClient
from realtime.redis_streams import RedisStreams, meta_key
from tests.realtime.servers import WallServer

N_EVENTS = 10_000


def _client(server: WallServer, token: str) -> HubClient:
    return HubClient(server.ws_url, token=token, heartbeat_s=2, backoff_s=0.02, backoff_max_s=0.2)


async def _collect(client: HubClient, topic: str, until: int, offsets: list[int], recoveries: list[bool]) -> None:
    async for message in client:
        if message["op"] == "subscribed":
            recoveries.append(message["recovered"])
        elif message["op"] == "event" and message["topic"] == topic:
            offsets.append(message["offset"])
            if message["offset"] >= until:
                return


def _publish(producer: RedisStreams, topic: str, total: int) -> None:
    rng = random.Random(7)
    sent = 0
    while sent < total:
        n = min(total - sent, rng.randint(1, 40))
        producer.append_many(topic, [{"type": "case.updated", "data": {"i": sent + i}} for i in range(n)])
        sent += n


async def test_random_disconnects_during_10k_events_leave_each_client_with_every_offset_once(
    server: WallServer, tokens: dict, producer: RedisStreams, topic: str, clients: list[HubClient]
) -> None:
    clients += [_client(server, tokens["wall"]) for _ in range(4)]
    offsets: list[list[int]] = [[] for _ in clients]
    recoveries: list[list[bool]] = [[] for _ in clients]
    for client in clients:
        client.subscribe(topic)
        await client.start()
    collectors = [
        asyncio.create_task(_collect(c, topic, N_EVENTS, got, rec))
        for c, got, rec in zip(clients, offsets, recoveries, strict=True)
    ]
    while not all(recoveries):  # every client is subscribed before the first event
        await asyncio.sleep(0.02)
    publisher = threading.Thread(target=_publish, args=(producer, topic, N_EVENTS))
    publisher.start()
    rng = random.Random(11)
    drops = 0
    while publisher.is_alive():
        await asyncio.sleep(rng.uniform(0.01, 0.1))
        rng.choice(clients).drop()
        drops += 1
    publisher.join()
    async with asyncio.timeout(60):
        await asyncio.gather(*collectors)
    assert drops > 0
    for got, rec in zip(offsets, recoveries, strict=True):
        assert got == list(range(1, N_EVENTS + 1))
        assert rec[1:] == [True] * (len(rec) - 1), "every resume found the history it needed"
    assert sum(client.connects for client in clients) > len(clients), "the test did disconnect clients"


async def test_resuming_from_the_last_offset_gets_exactly_the_missed_events(
    server: WallServer, tokens: dict, producer: RedisStreams, topic: str, clients: list[HubClient]
) -> None:
    producer.append_many(topic, [{"type": "alarm.raised", "data": {"i": i}} for i in range(30)])
    epoch = redis.Redis.from_url(server.redis_url, decode_responses=True).hget(meta_key(topic), "epoch")
    client = _client(server, tokens["commander"])
    clients.append(client)
    client.positions[topic] = (epoch, 12)
    client.subscribe(topic)
    await client.start()
    subscribed = await _next_op(client, "subscribed")
    assert subscribed["recovered"] is True
    assert (subscribed["epoch"], subscribed["offset"], subscribed["head"]) == (epoch, 30, 30)
    missed = [(await client.next(10))["offset"] for _ in range(18)]
    assert missed == list(range(13, 31))
    producer.append_many(topic, [{"type": "alarm.cleared", "data": {}}])
    live = await client.next(10)
    assert (live["op"], live["offset"], live["type"]) == ("event", 31, "alarm.cleared")


async def test_history_that_no_longer_covers_the_gap_gives_recovered_false(
    server: WallServer, tokens: dict, hub_redis_url: str, topic: str, clients: list[HubClient]
) -> None:
    short = RedisStreams(hub_redis_url, maxlen=10, max_age_s=3600)
    short.append_many(topic, [{"type": "case.created", "data": {"i": i}} for i in range(500)])
    epoch = redis.Redis.from_url(hub_redis_url, decode_responses=True).hget(meta_key(topic), "epoch")
    client = _client(server, tokens["wall"])
    clients.append(client)
    client.positions[topic] = (epoch, 1)
    client.subscribe(topic)
    await client.start()
    subscribed = await _next_op(client, "subscribed")
    assert (subscribed["recovered"], subscribed["offset"]) == (False, 500)
    short.append_many(topic, [{"type": "case.created", "data": {}}])
    assert (await client.next(10))["offset"] == 501
    short.close()


async def test_an_unknown_epoch_or_a_future_offset_gives_recovered_false(
    server: WallServer, tokens: dict, producer: RedisStreams, topic: str, clients: list[HubClient]
) -> None:
    producer.append_many(topic, [{"type": "case.created", "data": {}}] * 5)
    epoch = redis.Redis.from_url(server.redis_url, decode_responses=True).hget(meta_key(topic), "epoch")
    for since in [("otherepoch", 3), (epoch, 99)]:
        client = _client(server, tokens["wall"])
        clients.append(client)
        client.positions[topic] = since
        client.subscribe(topic)
        await client.start()
        subscribed = await _next_op(client, "subscribed")
        assert (subscribed["recovered"], subscribed["epoch"], subscribed["offset"]) == (False, epoch, 5)


async def test_lost_history_closes_live_subscribers_who_then_get_recovered_false(
    server: WallServer, tokens: dict, producer: RedisStreams, topic: str, clients: list[HubClient]
) -> None:
    producer.append_many(topic, [{"type": "case.created", "data": {}}] * 3)
    client = _client(server, tokens["admin"])
    clients.append(client)
    client.subscribe(topic)
    await client.start()
    first = await _next_op(client, "subscribed")
    redis.Redis.from_url(server.redis_url).delete(meta_key(topic), f"hub:{{{topic}}}:log")
    producer.append_many(topic, [{"type": "case.created", "data": {}}])
    again = await _next_op(client, "subscribed", timeout=20)
    assert again["recovered"] is False
    assert again["epoch"] != first["epoch"]
    assert 4009 in client.close_codes


async def _next_op(client: HubClient, op: str, timeout: float = 10) -> dict:
    async with asyncio.timeout(timeout):
        while True:
            message = await client.next()
            if message["op"] == op:
                return message
