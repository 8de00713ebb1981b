"""Live feeds: how a server process learns of new events on the topics its clients watch."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from realtime.envelope import Event
from realtime.memory import MemoryStreams
from realtime.redis_streams import AsyncRedisStreams, log_key, offset_of

log = logging.getLogger("realtime.feeds")

OnEvents = Callable[[str, list[Event]], None]
OnEpoch = Callable[[str], None]


class MemoryFeed:
    """Events appended in this process, handed over to the hub's event loop."""

    def __init__(self, streams: MemoryStreams, on_events: OnEvents) -> None:
        self.streams = streams
        self.on_events = on_events
        self.loop = asyncio.get_running_loop()
        self.topics: set[str] = set()
        streams.add_listener(self._listen)

    def _listen(self, topic: str, events: list[Event]) -> None:
        if topic not in self.topics:
            return
        try:
            self.loop.call_soon_threadsafe(self.on_events, topic, events)
        except RuntimeError:  # the loop is closed: this feed is dead
            self.streams.remove_listener(self._listen)

    async def watch(self, topic: str) -> None:
        """Start delivering events of `topic`."""
        self.topics.add(topic)

    def unwatch(self, topic: str) -> None:
        """Stop delivering events of `topic`."""
        self.topics.discard(topic)

    async def close(self) -> None:
        """Stop delivering anything."""
        self.streams.remove_listener(self._listen)


class RedisFeed:
    """One blocking XREAD over every watched topic's stream, from where this process has read."""

    BLOCK_MS = 2000
    COUNT = 2000

    def __init__(self, streams: AsyncRedisStreams, on_events: OnEvents, on_epoch_change: OnEpoch) -> None:
        self.streams = streams
        self.on_events = on_events
        self.on_epoch_change = on_epoch_change
        self.client = aioredis.Redis.from_url(streams.url, decode_responses=True, socket_connect_timeout=2)
        self.client.set_response_callback("XREAD", _raw)  # entries as Redis sends them: no dict per entry
        self.cursors: dict[str, int] = {}
        self.epochs: dict[str, str] = {}
        self._changed = asyncio.Event()
        self._read: asyncio.Future | None = None
        self._task = asyncio.get_running_loop().create_task(self._run(), name="hub-redis-feed")

    async def watch(self, topic: str) -> None:
        """Start delivering events of `topic` published from now on."""
        if topic in self.cursors:
            return
        page = await self.streams.read(topic, None, 0)
        if topic in self.cursors:
            return
        self.cursors[topic] = page.head
        self.epochs[topic] = page.epoch
        self._interrupt()

    def unwatch(self, topic: str) -> None:
        """Stop delivering events of `topic`."""
        if self.cursors.pop(topic, None) is not None:
            self.epochs.pop(topic, None)
            self._interrupt()

    def _interrupt(self) -> None:
        self._changed.set()
        if self._read is not None:
            self._read.cancel()

    async def close(self) -> None:
        """Stop reading and release the connection."""
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        await self.client.aclose()

    async def _run(self) -> None:
        failures = 0
        while True:
            self._changed.clear()
            if not self.cursors:
                await self._changed.wait()
                continue
            streams = {log_key(topic): f"{cursor}-0" for topic, cursor in self.cursors.items()}
            self._read = asyncio.ensure_future(self.client.xread(streams, count=self.COUNT, block=self.BLOCK_MS))
            try:
                reply = await self._read
            except asyncio.CancelledError:
                if self._changed.is_set():
                    continue  # the watched set changed: read again with the new streams
                raise
            except (RedisError, OSError) as exc:
                failures += 1
                log.warning("hub feed: Redis read failed (%s); retrying", exc)
                await asyncio.sleep(min(0.1 * 2**failures, 2.0))
                await self._check_epochs()
                continue
            finally:
                self._read = None
            if failures or not reply:
                await self._check_epochs()
                failures = 0
            streams = reply.items() if isinstance(reply, dict) else reply or ()
            # topics with few new events first: a bulk topic (positions) never delays the others
            for key, entries in sorted(streams, key=lambda pair: len(pair[1])):
                topic = key[len("hub:{") : -len("}:log")]
                if topic not in self.cursors or not entries:
                    continue
                epoch = self.epochs[topic]
                events = [Event(topic, epoch, offset_of(entry_id), _frame(fields)) for entry_id, fields in entries]
                self.cursors[topic] = events[-1].offset
                self.on_events(topic, events)

    async def _check_epochs(self) -> None:
        """Notice topics whose history was lost (Redis restarted empty): new epoch, offsets from 1."""
        for topic in list(self.cursors):
            try:
                page = await self.streams.read(topic, None, 0)
            except (RedisError, OSError):
                return
            if topic in self.epochs and page.epoch != self.epochs[topic]:
                log.warning("hub feed: topic %s has a new epoch %s", topic, page.epoch)
                self.epochs[topic] = page.epoch
                self.cursors[topic] = 0
                self.on_epoch_change(topic)


def _raw(response: Any, **options: Any) -> Any:
    """The XREAD reply unparsed: {stream: [[id, [field, value, ...]], ...]} (a list of pairs under RESP2)."""
    return response


def _frame(fields: list[str]) -> str:
    """The `f` value of a stream entry's flat field list (the append script writes it first)."""
    return fields[1] if fields[0] == "f" else dict(zip(fields[::2], fields[1::2], strict=True))["f"]
