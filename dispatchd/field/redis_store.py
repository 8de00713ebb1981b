"""Live worker state shared through Redis, so that several processes agree on it.

Per worker a hash `<prefix>w:<id>`; every write is a Lua script that changes the hash, adds the
worker to the GEO set `<prefix>geo` and appends the worker's whole new state to the stream
`<prefix>changes`. A position write happens only if it is newer than the stored one, so two
processes ingesting fixes of the same worker cannot move it back in time. Each process keeps a
local view (and its nearest index) and replays the stream into it before answering queries.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

import redis

from dispatchd.field.state import LiveState
from dispatchd.field.store import LiveStore
from dispatchd.geo.geofence import FenceState

POSITION = ("t", "lat", "lon", "accuracy_m", "speed_mps", "heading")
STATUS = ("skills", "department", "grid_id", "duty", "busy", "case_id")
FLOATS = {"lat", "lon", "t", "accuracy_m", "speed_mps", "heading"}
INTS = {"department", "grid_id", "case_id"}
STREAM_MAXLEN = 200_000

# KEYS: hash, stream, geo. ARGV: worker id, is-position ("1"/"0"), stream maxlen, then field/value pairs.
# A position write (t first, so ARGV[5] is its time) must be newer than the stored t.
# Returns the new hash, or nil when refused.
_WRITE = """
local pairs_at = 4
if ARGV[2] == '1' then
  local cur = redis.call('HGET', KEYS[1], 't')
  if cur and cur ~= '' and tonumber(cur) >= tonumber(ARGV[5]) then return nil end
end
redis.call('HSET', KEYS[1], 'worker_id', ARGV[1], unpack(ARGV, pairs_at))
local lat, lon = redis.call('HGET', KEYS[1], 'lat'), redis.call('HGET', KEYS[1], 'lon')
if lat and lat ~= '' and lon and lon ~= '' then
  redis.call('GEOADD', KEYS[3], lon, lat, ARGV[1])
end
local all = redis.call('HGETALL', KEYS[1])
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], '*', unpack(all))
return all
"""


def _encode(state: LiveState, fields: tuple[str, ...]) -> list[str]:
    data = asdict(state)
    out: list[str] = []
    for name in fields:
        value = data[name]
        if name == "skills":
            value = json.dumps(sorted(value))
        elif name == "busy":
            value = "1" if value else "0"
        elif value is None:
            value = ""
        out += [name, str(value)]
    return out


def _decode(flat: list[bytes] | dict[bytes, bytes]) -> LiveState:
    items = flat.items() if isinstance(flat, dict) else zip(flat[::2], flat[1::2], strict=True)
    data: dict[str, Any] = {}
    for raw_key, raw_value in items:
        key, value = raw_key.decode(), raw_value.decode()
        if key == "skills":
            data[key] = frozenset(json.loads(value))
        elif key == "busy":
            data[key] = value == "1"
        elif key == "worker_id":
            data[key] = int(value)
        elif key in FLOATS:
            data[key] = float(value) if value else None
        elif key in INTS:
            data[key] = int(value) if value else None
        elif key == "duty":
            data[key] = value
    return LiveState(**data)


class RedisStore(LiveStore):
    """Live state in Redis, with this process's view of it kept current from the change stream."""

    def __init__(self, url: str, prefix: str = "wall:field:", origin: tuple[float, float] | None = None) -> None:
        super().__init__(origin)
        self.redis = redis.Redis.from_url(url)
        self.prefix = prefix
        self._write = self.redis.register_script(_WRITE)
        self._cursor = "0-0"
        self._stream = prefix + "changes"
        self._geo = prefix + "geo"

    def _key(self, worker_id: int) -> str:
        return f"{self.prefix}w:{worker_id}"

    def _commit(self, state: LiveState, fix: bool) -> LiveState | None:
        fields = POSITION if fix else STATUS
        args = [state.worker_id, "1" if fix else "0", STREAM_MAXLEN, *_encode(state, fields)]
        flat = self._write(keys=[self._key(state.worker_id), self._stream, self._geo], args=args)
        if flat is None:
            return None
        decided = _decode(flat)
        self._show(decided)
        return decided

    def load(self, states) -> None:
        """Register workers from the database; positions only where Redis has none newer."""
        states = list(states)
        for state in states:
            self._commit(state, fix=False)
            if state.t is not None:
                self._commit(state, fix=True)
        self.reload()

    def reload(self) -> None:
        """Rebuild the local view from Redis (at start, or after falling behind the stream)."""
        last = self.redis.xrevrange(self._stream, count=1)
        cursor = last[0][0].decode() if last else "0-0"
        keys = list(self.redis.scan_iter(match=f"{self.prefix}w:*", count=1000))
        pipe = self.redis.pipeline(transaction=False)
        for key in keys:
            pipe.hgetall(key)
        for flat in pipe.execute():
            if flat:
                self._show(_decode(flat))
        self._cursor = cursor
        self.sync()

    def sync(self, batch: int = 10_000) -> None:
        """Replay the changes made by any process since the last sync."""
        while True:
            reply = self.redis.xread({self._stream: self._cursor}, count=batch)
            if not reply:
                return
            entries = reply[0][1]
            if len(entries) == batch and self._fell_behind():
                self.reload()
                return
            for entry_id, fields in entries:
                self._show(_decode(fields))
                self._cursor = entry_id.decode()
            if len(entries) < batch:
                return

    def _fell_behind(self) -> bool:
        first = self.redis.xrange(self._stream, count=1)
        if not first:
            return False
        oldest = tuple(int(p) for p in first[0][0].decode().split("-"))
        mine = tuple(int(p) for p in self._cursor.split("-"))
        return mine < oldest

    def fence_states(self, worker_id: int) -> dict[str, FenceState]:
        """The worker's standing with its fences, as last recorded by any process."""
        raw = self.redis.get(f"{self.prefix}fences:{worker_id}")
        return {k: FenceState(**v) for k, v in json.loads(raw).items()} if raw else {}

    def put_fence_states(self, worker_id: int, states: dict[str, FenceState]) -> None:
        """Record the worker's standing with its fences for every process."""
        data = {k: asdict(v) for k, v in states.items()}
        self.redis.set(f"{self.prefix}fences:{worker_id}", json.dumps(data))
