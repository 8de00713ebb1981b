"""Eager TCP writes (wall/tcp_writes.py) keep every byte in order, back-pressure and producers working."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROBE = Path(__file__).with_name("tcp_probe.py")


def _exchange(writer: str, how: str) -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, str(PROBE), writer, how], env=env, cwd=ROOT, capture_output=True,
                         text=True, timeout=120, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_a_burst_larger_than_the_socket_buffers_arrives_whole_and_in_order():
    result = _exchange("burst", "eager")
    assert result["installed"]
    assert result["complete"], result
    # the first writes went straight out, the rest found the kernel's buffer full and queued behind them
    assert 0 < result["queued_writes"] < 400


def test_without_eager_writes_every_write_is_queued_for_the_reactor():
    result = _exchange("burst", "plain")
    assert not result["installed"]
    assert result["complete"], result
    assert result["queued_writes"] == 400


@pytest.mark.parametrize("how", ["eager", "plain"])
def test_a_pull_producer_is_asked_for_more_until_it_is_done(how):
    result = _exchange("pull", how)
    assert result["complete"], result


def test_a_streaming_producer_is_paused_when_the_client_reads_slowly_and_resumed_after():
    result = _exchange("push", "eager")
    assert result["complete"], result
    assert result["pauses"] >= 1
