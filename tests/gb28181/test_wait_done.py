"""wait_done: a wait that never swallows its caller's cancellation (asyncio.wait_for on 3.11 can)."""

from __future__ import annotations

import asyncio

import pytest

from video.gb28181.tasks import wait_done


async def test_a_cancellation_arriving_as_the_future_completes_is_not_swallowed() -> None:
    future = asyncio.get_running_loop().create_future()
    waiter = asyncio.ensure_future(wait_done(future, 10))
    await asyncio.sleep(0)  # the waiter is now waiting on the future
    future.set_result("response")
    waiter.cancel()  # in the same turn of the loop as the completion
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert future.result() == "response"  # the future itself is left as it was


async def test_it_answers_whether_the_future_is_done_and_never_cancels_it() -> None:
    future = asyncio.get_running_loop().create_future()
    assert await wait_done(future, 0.01) is False
    assert not future.cancelled()
    future.set_result(1)
    assert await wait_done(future, 0.01) is True
