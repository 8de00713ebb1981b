"""Nothing leaks: 200 join/leave cycles leave no connection, task, thread, socket, slot or recording behind."""

from __future__ import annotations

import asyncio
import gc
import os
import threading
import weakref

from tests.calls.client import Peer
from tests.calls.conftest import COMMANDER, SECOND
from tests.gb28181.conftest import eventually
from video.calls.forwarding import SlotTrack
from video.calls.model import Kind

CYCLES = 200


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


async def test_two_hundred_join_leave_cycles_leak_nothing(manager):
    host = Peer(slots=1)
    slots: weakref.WeakSet[SlotTrack] = weakref.WeakSet()
    try:
        session, joined = await manager.create(COMMANDER, Kind.SESSION, [], await host.offer(), record=True)
        await host.apply(joined)
        source = session.seat_of(COMMANDER.identity).sources()["video"]
        await eventually(lambda: source.stats.frames > 0)

        async def cycle() -> None:
            guest = Peer(slots=1, video=False, audio=False)
            try:
                await guest.apply(await manager.join(session.id, SECOND, await guest.offer()))
                seat = session.seat_of(SECOND.identity)
                slots.update(seat.media.slots[0].tracks())
                await eventually(lambda: seat.seat == "connected")
                await manager.hangup(session.id, SECOND)
            finally:
                await guest.close()

        await cycle()  # warm-up: first-use allocations are not leaks
        await asyncio.sleep(0.2)
        gc.collect()
        threads, fds, tasks = threading.active_count(), _open_fds(), len(asyncio.all_tasks())
        for _ in range(CYCLES):
            await cycle()
        await asyncio.sleep(0.2)
        gc.collect()

        assert session.state == "active"
        guest_seat = session.seat_of(SECOND.identity)
        assert guest_seat.seat == "left" and guest_seat.media is None
        assert source.slots == set() and len(slots) == 0
        assert len(session.recording._recorders) == 2  # the host's audio and video only
        assert threading.active_count() <= threads
        assert _open_fds() <= fds + 2
        assert len(asyncio.all_tasks()) <= tasks + 2
        assert len(manager.tasks) <= 2
    finally:
        await host.close()
