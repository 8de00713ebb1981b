"""autobahn's debug-log arguments, built only when a debug line is actually written.

autobahn's `sendData`, run once per WebSocket frame sent, logs each send at debug level and builds the
arguments first: the sending method's qualified name and two values, each coloured through `click.style`.
With debug off, txaio drops the line, but the arguments were already built: 14 % of a web process's CPU
under the hub bench's fan-out (py-spy). `install()` makes the highlighters that `autobahn.websocket.protocol`
calls return a placeholder that runs the real one when the line is formatted, so a written debug line
reads exactly as before.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from autobahn import util
from autobahn.websocket import protocol


class Deferred:
    """A log argument: `render(*args, **kwargs)`, run only when the line is formatted."""

    __slots__ = ("args", "kwargs", "render")

    def __init__(self, render: Callable[..., str], args: tuple, kwargs: dict[str, Any]) -> None:
        self.render, self.args, self.kwargs = render, args, kwargs

    def __str__(self) -> str:
        return self.render(*self.args, **self.kwargs)

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)

    def __repr__(self) -> str:
        return str(self)


def deferring(render: Callable[..., str]) -> Callable[..., Deferred]:
    """`render` made lazy: calling it records the arguments, formatting the result renders them."""

    def lazy(*args: Any, **kwargs: Any) -> Deferred:
        return Deferred(render, args, kwargs)

    lazy.__wrapped__ = render  # type: ignore[attr-defined]
    return lazy


def install() -> None:
    """Make the highlighters of autobahn's WebSocket protocol lazy (idempotent)."""
    if not hasattr(protocol.hltype, "__wrapped__"):
        protocol.hltype = deferring(util.hltype)
        protocol.hlval = deferring(util.hlval)
