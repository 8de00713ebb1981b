"""A Twisted server writing numbered chunks to a slow reader; run by test_tcp_writes.py in its own process.

`python tcp_probe.py <writer> <eager|plain>`: `writer` is `burst` (every chunk written at once),
`pull` (a non-streaming producer writes one chunk per `resumeProducing`) or `push` (a streaming
producer writes until paused). The client, a plain socket in a thread, waits before reading so the
kernel's buffers fill and sends go partial. Prints one JSON line: whether the client got every byte in
order, how many writes found data already queued, and how often the producer was paused.
"""

from __future__ import annotations

import json
import socket
import sys
import threading
import time

from twisted.internet import protocol, reactor

from wall import tcp_writes

CHUNKS = 400
CHUNK = 16 * 1024


def chunk(n: int) -> bytes:
    """Chunk n: its number, then filler that differs from chunk to chunk."""
    return n.to_bytes(4, "big") + bytes([n % 251]) * (CHUNK - 4)


class Writer(protocol.Protocol):
    """Writes the chunks as `sys.argv[1]` says, then closes."""

    def __init__(self, stats: dict) -> None:
        self.stats = stats
        self.mode = sys.argv[1]
        self.next = 0
        self.paused = False

    def connectionMade(self) -> None:
        if self.mode == "burst":
            while self.next < CHUNKS:
                self.write_one()
            self.transport.loseConnection()
        else:
            self.transport.registerProducer(self, self.mode == "push")
            if self.mode == "push":
                reactor.callLater(0, self.push)

    def write_one(self) -> None:
        self.transport.write(chunk(self.next))
        self.next += 1
        t = self.transport
        if len(t.dataBuffer) - t.offset + t._tempDataLen:
            self.stats["queued_writes"] += 1

    def finish(self) -> None:
        self.transport.unregisterProducer()
        self.transport.loseConnection()

    def push(self) -> None:
        while not self.paused and self.next < CHUNKS:
            self.write_one()
        if self.next == CHUNKS:
            self.finish()

    def resumeProducing(self) -> None:
        if self.mode == "pull":
            self.write_one()
            if self.next == CHUNKS:
                self.finish()
            return
        self.paused = False
        reactor.callLater(0, self.push)

    def pauseProducing(self) -> None:
        self.stats["pauses"] += 1
        self.paused = True

    def stopProducing(self) -> None:
        self.paused = True


def read_slowly(port: int, out: dict) -> None:
    """Connect, wait for the server's sends to back up, then read to the end."""
    with socket.create_connection(("127.0.0.1", port)) as sock:
        time.sleep(0.5)
        parts = []
        while data := sock.recv(8192):
            parts.append(data)
    out["received"] = b"".join(parts)
    reactor.callFromThread(reactor.stop)


def main() -> None:
    """Run one exchange and print its JSON line."""
    if sys.argv[2] == "eager":
        tcp_writes.install()
        tcp_writes.install()  # idempotent
    stats = {"queued_writes": 0, "pauses": 0}
    factory = protocol.Factory.forProtocol(lambda: Writer(stats))
    port = reactor.listenTCP(0, factory, interface="127.0.0.1").getHost().port
    out: dict = {}
    threading.Thread(target=read_slowly, args=(port, out), daemon=True).start()
    reactor.callLater(60, reactor.stop)  # a stalled writer fails the test instead of hanging it
    reactor.run()
    expected = b"".join(chunk(n) for n in range(CHUNKS))
    print(json.dumps(stats | {"installed": tcp_writes.installed(), "complete": out.get("received") == expected,
                              "received_bytes": len(out.get("received", b""))}))


if __name__ == "__main__":
    main()
