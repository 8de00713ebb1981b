"""One client's subscription to one topic: replay from `since`, then live events, merged by offset."""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol

from redis.exceptions import RedisError

from realtime.envelope import Event, Page, dumps
from realtime.hub import Hub
from realtime.protocol import Close

log = logging.getLogger("realtime.subscription")

# Events of `missed` carried in the `subscribed` frame; the rest follow as event frames.
MISSED_IN_REPLY = 200


class Outlet(Protocol):
    """What a subscription needs of its connection."""

    chunk: int

    def push(self, frame: str) -> bool: ...

    async def drained(self) -> None: ...

    def close_soon(self, code: Close, reason: str) -> None: ...


def covers(page: Page, since: tuple[str, int]) -> bool:
    """Whether `page` (read after since's offset) holds every event after `since`, from its first."""
    epoch, offset = since
    if epoch != page.epoch or offset > page.head:
        return False
    return offset == page.head or (bool(page.events) and page.events[0].offset == offset + 1)


class Subscription:
    """Delivers each offset of a topic exactly once, in order: from history, then from the live feed."""

    def __init__(self, hub: Hub, outlet: Outlet, topic: str) -> None:
        self.hub = hub
        self.outlet = outlet
        self.topic = topic
        self.epoch = ""
        self.next = 0  # the next offset to deliver
        self.live = False
        self.seen = 0  # highest offset offered while not live
        self.closed = False
        self._task: asyncio.Task | None = None

    async def open(self, since: tuple[str, int] | None) -> None:
        """Reply `subscribed` (with the events missed since `since`), then deliver the rest."""
        await self.hub.add(self.topic, self)
        page = await self.hub.streams.read(self.topic, since[1] if since else None, MISSED_IN_REPLY)
        if self.closed:
            return
        self.epoch = page.epoch
        recovered = since is not None and covers(page, since)
        missed = page.events if recovered else []
        if missed:
            position = missed[-1].offset
        else:
            position = since[1] if recovered and since else page.head
        self.next = position + 1
        reply = (
            f'{{"op":"subscribed","topic":{dumps(self.topic)},"epoch":"{page.epoch}","offset":{position},'
            f'"head":{page.head},"recovered":{"true" if recovered else "false"},'
            f'"missed":[{",".join(event.frame for event in missed)}]}}'
        )
        if not self.outlet.push(reply):
            return
        self._resume(page.head)

    def _resume(self, head: int) -> None:
        if self.next <= head or self.seen >= self.next:
            self.live = False
            self._task = asyncio.get_running_loop().create_task(self._catch_up())
        else:
            self.live = True

    def offer(self, events: list[Event]) -> None:
        """Take live events of this topic: deliver the next ones, fetch from history on a gap."""
        if not self.live:
            self.seen = max(self.seen, events[-1].offset)
            return
        for event in events:
            if event.offset < self.next:
                continue
            if event.offset > self.next:
                self.seen = events[-1].offset
                self._resume(self.next)
                return
            if not self.outlet.push(event.frame):
                return
            self.next += 1

    def epoch_changed(self) -> None:
        """The topic's history was lost: the client must resubscribe (and will get recovered:false)."""
        self.outlet.close_soon(Close.EPOCH_CHANGED, f"{self.topic}: history lost, resubscribe")

    async def _catch_up(self) -> None:
        try:
            while not self.closed:
                page = await self.hub.streams.read(self.topic, self.next - 1, self.outlet.chunk)
                if page.epoch != self.epoch:
                    self.epoch_changed()
                    return
                if not covers(page, (self.epoch, self.next - 1)):
                    self.outlet.close_soon(Close.TOO_SLOW, f"{self.topic}: fell behind the kept history")
                    return
                for event in page.events:
                    if not self.outlet.push(event.frame):
                        return
                    self.next = event.offset + 1
                if self.next > page.head and self.seen < self.next:
                    self.live = True
                    return
                await self.outlet.drained()
        except (RedisError, OSError) as exc:
            log.warning("hub: reading %s failed: %s", self.topic, exc)
            self.outlet.close_soon(Close.UNAVAILABLE, "event store unavailable, resume later")

    def close(self) -> None:
        """Stop delivering and leave the hub."""
        self.closed = True
        self.live = False
        self.hub.remove(self.topic, self)
        if self._task is not None and not self._task.done():
            self._task.cancel()
