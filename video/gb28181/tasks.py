"""Background tasks owned by one object: spawned, tracked, failures logged, cancelled together."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

log = logging.getLogger(__name__)


class BackgroundTasks:
    """A set of tasks that lives as long as its owner."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task] = set()

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task:
        """Run a coroutine as a tracked task."""
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._done)
        return task

    def __len__(self) -> int:
        return len(self._tasks)

    def _done(self, task: asyncio.Task) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("background task failed", exc_info=task.exception())

    async def cancel_all(self) -> None:
        """Cancel every task and wait for them to finish."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def wait_done(future: asyncio.Future, timeout: float) -> bool:
    """Wait up to `timeout` s for `future` without cancelling it; whether it is done.

    Used instead of `asyncio.wait_for`, which on Python 3.11 can swallow a cancellation of the caller that
    arrives as the future completes: a cancelled keepalive loop then ran on, and its owner waited forever.
    """
    done, _ = await asyncio.wait((future,), timeout=timeout)
    return bool(done)
