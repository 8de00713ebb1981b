"""Streams in Redis: per topic a hash {epoch, offset} and a stream whose entry ids are `<offset>-0`.

Appends run as one Lua script, so offsets are gap-free across every producer process, and the
event frame is built there once (offset and epoch included) and stored ready to send.
"""

from __future__ import annotations

import time

import redis
import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff

from realtime.envelope import Event, Page, event_tail, new_epoch

# KEYS: meta, log. ARGV: new epoch, topic as JSON, maxlen, now ms, max age ms, tail...
_APPEND = """
local epoch = redis.call('HGET', KEYS[1], 'epoch')
if not epoch then
  epoch = ARGV[1]
  redis.call('DEL', KEYS[2])
  redis.call('HSET', KEYS[1], 'epoch', epoch, 'offset', 0)
end
local prefix = '{"op":"event","topic":' .. ARGV[2] .. ',"epoch":"' .. epoch .. '","offset":'
local off = 0
for i = 6, #ARGV do
  off = redis.call('HINCRBY', KEYS[1], 'offset', 1)
  redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], off .. '-0', 'f', prefix .. off .. ',' .. ARGV[i], 't', ARGV[4])
end
if math.floor(off / 64) ~= math.floor((off - (#ARGV - 5)) / 64) then
  local cutoff = tonumber(ARGV[4]) - tonumber(ARGV[5])
  local oldest = redis.call('XRANGE', KEYS[2], '-', '+', 'COUNT', 256)
  local keep = nil
  for _, entry in ipairs(oldest) do
    local fields = entry[2]
    if tonumber(fields[4]) >= cutoff then keep = entry[1] break end
  end
  if keep then redis.call('XTRIM', KEYS[2], 'MINID', keep)
  elseif #oldest > 0 then
    local last = tonumber(string.match(oldest[#oldest][1], '^(%d+)'))
    redis.call('XTRIM', KEYS[2], 'MINID', (last + 1) .. '-0')
  end
end
redis.call('PEXPIRE', KEYS[2], ARGV[5])
return {epoch, off}
"""

# KEYS: meta, log. ARGV: new epoch, first id wanted ('' for none), limit.
_READ = """
local epoch = redis.call('HGET', KEYS[1], 'epoch')
if not epoch then
  epoch = ARGV[1]
  redis.call('DEL', KEYS[2])
  redis.call('HSET', KEYS[1], 'epoch', epoch, 'offset', 0)
end
local head = redis.call('HGET', KEYS[1], 'offset')
local entries = {}
if ARGV[2] ~= '' then entries = redis.call('XRANGE', KEYS[2], ARGV[2], '+', 'COUNT', ARGV[3]) end
return {epoch, head, entries}
"""


def meta_key(topic: str) -> str:
    """The hash holding the epoch and head offset of `topic`."""
    return f"hub:{{{topic}}}:meta"


def log_key(topic: str) -> str:
    """The stream holding the events of `topic`."""
    return f"hub:{{{topic}}}:log"


def offset_of(entry_id: str) -> int:
    """The offset encoded in a stream entry id."""
    return int(entry_id.partition("-")[0])


def _append_args(topic: str, events: list[dict], maxlen: int, max_age_s: float) -> list:
    from realtime.envelope import dumps

    tails = [event_tail(event) for event in events]
    return [new_epoch(), dumps(topic), maxlen, int(time.time() * 1000), int(max_age_s * 1000), *tails]


def _page(topic: str, reply: list) -> Page:
    epoch, head, entries = reply
    events = [Event(topic, epoch, offset_of(entry_id), dict(_pairs(fields))["f"]) for entry_id, fields in entries]
    return Page(epoch, int(head), events)


def _pairs(fields: list) -> list[tuple[str, str]]:
    return list(zip(fields[::2], fields[1::2], strict=True))


class RedisStreams:
    """Synchronous appends, for producers in Django sync code."""

    def __init__(self, url: str, maxlen: int, max_age_s: float) -> None:
        self.maxlen = maxlen
        self.max_age_s = max_age_s
        self.client = redis.Redis.from_url(url, decode_responses=True, socket_timeout=5, socket_connect_timeout=2)
        self._append = self.client.register_script(_APPEND)

    def append_many(self, topic: str, events: list[dict]) -> int:
        """Append events to `topic`; return the offset of the last one."""
        args = _append_args(topic, events, self.maxlen, self.max_age_s)
        return int(self._append(keys=[meta_key(topic), log_key(topic)], args=args)[1])

    def close(self) -> None:
        """Release the connections."""
        self.client.close()


class AsyncRedisStreams:
    """Async appends and reads, bound to the event loop that first uses them."""

    def __init__(self, url: str, maxlen: int, max_age_s: float) -> None:
        self.url = url
        self.maxlen = maxlen
        self.max_age_s = max_age_s
        self.client = aioredis.Redis.from_url(url, decode_responses=True, socket_connect_timeout=2)
        # Reads have connections of their own that retry: after a Redis restart every pooled connection is
        # dead and would fail its next command (a subscribe closed with 4011 long after Redis is back).
        # Appends do not retry, so an append is never made twice.
        self.reader = aioredis.Redis.from_url(
            url, decode_responses=True, socket_connect_timeout=2, retry=Retry(ExponentialBackoff(0.5, 0.05), 2)
        )
        self._append = self.client.register_script(_APPEND)
        self._read = self.reader.register_script(_READ)

    async def append_many(self, topic: str, events: list[dict]) -> int:
        """Append events to `topic`; return the offset of the last one."""
        args = _append_args(topic, events, self.maxlen, self.max_age_s)
        return int((await self._append(keys=[meta_key(topic), log_key(topic)], args=args))[1])

    async def read(self, topic: str, after: int | None, limit: int) -> Page:
        """The epoch, head and up to `limit` events with offsets above `after` (none when None)."""
        first = "" if after is None else f"{after + 1}-0"
        reply = await self._read(keys=[meta_key(topic), log_key(topic)], args=[new_epoch(), first, limit])
        return _page(topic, reply)

    async def close(self) -> None:
        """Release the connections."""
        await self.client.aclose()
        await self.reader.aclose()
