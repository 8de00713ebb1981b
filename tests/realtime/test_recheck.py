"""Re-checks of open connections' credentials are shared by the connections with the same credential."""

from __future__ import annotations

import asyncio

from realtime.identity import recheck

CALLS: list[str] = []
PATH = "tests.realtime.test_recheck.counting_authenticator"


def counting_authenticator(token: str) -> str | None:
    """A stand-in authenticator that records each call: "good" is valid, anything else is not."""
    CALLS.append(token)
    return "principal" if token == "good" else None


async def test_a_hundred_connections_with_one_token_cost_one_check_per_interval() -> None:
    CALLS.clear()
    answers = await asyncio.gather(*(recheck(PATH, "good", 0.2) for _ in range(100)))
    assert answers == ["principal"] * 100 and CALLS == ["good"]
    assert await recheck(PATH, "bad", 0.2) is None and CALLS == ["good", "bad"]  # other credentials: own check
    await asyncio.sleep(0.25)
    assert await recheck(PATH, "good", 0.2) == "principal" and CALLS == ["good", "bad", "good"]  # checked anew
