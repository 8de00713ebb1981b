"""autobahn's per-frame debug-log arguments are rendered only when a line is written, and read as before."""

from __future__ import annotations

from autobahn import util
from autobahn.websocket import protocol
from twisted.logger import formatEvent

from wall.autobahn_logs import deferring, install

SEND_LINE = "{func} sent {data_len} bytes for peer {peer}"  # what autobahn's sendData logs per frame


def test_a_debug_line_with_deferred_arguments_reads_exactly_as_with_autobahns_own() -> None:
    install()
    install()  # idempotent: the placeholders are not wrapped twice
    assert protocol.hltype.__wrapped__ is util.hltype and protocol.hlval.__wrapped__ is util.hlval
    method, peer = protocol.WebSocketProtocol.sendData, "tcp4:127.0.0.1:5000"
    lazy = {"func": protocol.hltype(method), "peer": protocol.hlval(peer), "data_len": protocol.hlval(42)}
    eager = {"func": util.hltype(method), "peer": util.hlval(peer), "data_len": util.hlval(42)}
    written = formatEvent({"log_format": SEND_LINE, **lazy})
    assert written == formatEvent({"log_format": SEND_LINE, **eager})
    assert "sendData" in written and "42" in written and "127.0.0.1:5000" in written
    assert f"{protocol.hlval(7, color='blue'):>30}" == f"{util.hlval(7, color='blue'):>30}"


def test_nothing_is_rendered_until_the_line_is_formatted() -> None:
    calls: list[tuple] = []

    def render(value: object, *, color: str = "white") -> str:
        calls.append((value, color))
        return f"<{value}:{color}>"

    lazy = deferring(render)
    values = [lazy(n, color="red") for n in range(1000)]  # a thousand frames sent with debug off
    assert calls == []
    assert str(values[3]) == "<3:red>" and repr(values[4]) == "<4:red>"
    assert calls == [(3, "red"), (4, "red")]
