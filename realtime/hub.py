"""The hub of one server process: which local subscriptions want which topic, fed by a live feed."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Iterable
from typing import Protocol

from realtime import backend
from realtime.config import HubConfig
from realtime.envelope import Event, Page
from realtime.feeds import MemoryFeed, RedisFeed
from realtime.ingest import PositionIngest
from realtime.memory import MemoryStreams
from realtime.positions import PositionBoard
from realtime.redis_streams import AsyncRedisStreams
from realtime.topics import POSITIONS


class Subscriber(Protocol):
    """What the hub needs of a subscription."""

    def offer(self, events: list[Event]) -> None: ...

    def epoch_changed(self) -> None: ...


class MemoryReader:
    """The async read interface over the in-process streams."""

    def __init__(self, streams: MemoryStreams) -> None:
        self.streams = streams

    async def read(self, topic: str, after: int | None, limit: int) -> Page:
        """See MemoryStreams.read."""
        return self.streams.read(topic, after, limit)

    async def append_many(self, topic: str, events: list[dict]) -> int:
        """See MemoryStreams.append_many."""
        return self.streams.append_many(topic, events)


class Hub:
    """Fans events of watched topics out to the subscriptions of this process."""

    def __init__(self, config: HubConfig) -> None:
        self.config = config
        self.topics: dict[str, set[Subscriber]] = {}
        if config.redis_url:
            self.streams: AsyncRedisStreams | MemoryReader = AsyncRedisStreams(
                config.redis_url, config.stream_maxlen, config.stream_max_age_s
            )
            self.feed: RedisFeed | MemoryFeed = RedisFeed(self.streams, self.deliver, self.epoch_changed)
        else:
            memory = backend.sync_streams()
            assert isinstance(memory, MemoryStreams)
            self.streams = MemoryReader(memory)
            self.feed = MemoryFeed(memory, self.deliver)
        self.board = PositionBoard(config.tick_s, config.batch_part_items)
        self.ingest = PositionIngest(config.position_sink, config.position_concurrency)
        self._board_ready: asyncio.Future | None = None

    async def position_board(self) -> PositionBoard:
        """The coalescing board, fed live and seeded with the kept position history on first use."""
        if self._board_ready is None:
            self._board_ready = asyncio.ensure_future(self._start_board())
        try:
            await asyncio.shield(self._board_ready)
        except BaseException:
            ready = self._board_ready
            if ready.done() and (ready.cancelled() or ready.exception() is not None):
                self._board_ready = None
            raise
        return self.board

    async def _start_board(self) -> None:
        await self.add(POSITIONS, self.board)
        head = (await self.streams.read(POSITIONS, None, 0)).head
        keep = min(self.config.stream_maxlen, 50_000)
        page = await self.streams.read(POSITIONS, max(0, head - keep), keep)
        if page.events:
            self.board.offer(page.events)

    async def add(self, topic: str, subscriber: Subscriber) -> None:
        """Deliver events of `topic` to `subscriber` from now on."""
        self.topics.setdefault(topic, set()).add(subscriber)
        await self.feed.watch(topic)

    def remove(self, topic: str, subscriber: Subscriber) -> None:
        """Stop delivering `topic` to `subscriber`."""
        subscribers = self.topics.get(topic)
        if subscribers is None:
            return
        subscribers.discard(subscriber)
        if not subscribers:
            del self.topics[topic]
            self.feed.unwatch(topic)

    def deliver(self, topic: str, events: list[Event]) -> None:
        """Offer freshly stored events to every subscription of `topic`."""
        for subscriber in list(self.topics.get(topic, ())):
            subscriber.offer(events)

    def epoch_changed(self, topic: str) -> None:
        """The history of `topic` was lost: tell its subscriptions."""
        for subscriber in list(self.topics.get(topic, ())):
            subscriber.epoch_changed()

    def subscribers(self) -> Iterable[Subscriber]:
        """Every subscription of this process."""
        for subscribers in self.topics.values():
            yield from subscribers


_hubs: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Hub] = weakref.WeakKeyDictionary()


def get_hub() -> Hub:
    """The hub of the running event loop (one per server process)."""
    loop = asyncio.get_running_loop()
    hub = _hubs.get(loop)
    if hub is None:
        hub = _hubs[loop] = Hub(backend.config())
    return hub
