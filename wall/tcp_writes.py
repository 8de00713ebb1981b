"""Eager TCP writes for Daphne's Twisted transport: send at once when nothing is queued.

Twisted buffers every write and registers the socket with the event loop's selector, then sends on the
next loop turn and unregisters it again: two `epoll_ctl` calls, a selector wake-up and a callback per
WebSocket frame. Under the hub's fan-out (one frame per client per case event) that was about a quarter of a web
process's CPU. Here a write on an idle, plain (non-TLS) connection goes straight to `send()`; whatever the
kernel does not take, and every write while data is still queued, takes Twisted's own path, so the bytes
keep their order and errors are found and reported by the reactor as before.
"""

from __future__ import annotations

from twisted.internet import abstract, tcp

_buffered_write = abstract.FileDescriptor.write
_tls_or_buffered = tcp.Connection.write


def _eager_write(self: tcp.Connection, data: bytes) -> None:
    """Send `data` now if the connection is idle; queue what is left (or all of it otherwise) as Twisted does."""
    if (
        self.TLS
        or self.dataBuffer
        or self._tempDataBuffer
        or not self.connected
        or self.disconnecting
        or self._writeDisconnecting
        or self._writeDisconnected
        # a pull producer is asked for more only when the reactor empties the queue: keep it queued
        or (self.producer is not None and not self.streamingProducer)
        or not isinstance(data, bytes)
        or not data
    ):
        _tls_or_buffered(self, data)
        return
    sent = self.writeSomeData(data)
    if isinstance(sent, Exception) or sent < 0:
        sent = 0  # queued instead: the reactor's own write meets the error and closes the connection
    if sent < len(data):
        _buffered_write(self, data[sent:])


def install() -> None:
    """Make every Twisted TCP connection in this process write eagerly (idempotent)."""
    if tcp.Connection.write is not _eager_write:
        tcp.Connection.write = _eager_write  # type: ignore[method-assign]


def installed() -> bool:
    """Whether TCP connections in this process write eagerly."""
    return tcp.Connection.write is _eager_write
