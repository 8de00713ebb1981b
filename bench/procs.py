"""Child processes of the benches and tests: free ports, waiting for a listener, stopping, memory from /proc."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_port(port: int, proc: subprocess.Popen, timeout: float = 30.0) -> None:
    """Wait until something accepts connections on `port`; RuntimeError if `proc` dies first or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listening on {port} after {timeout} s")


def stop_process(proc: subprocess.Popen | None, timeout: float = 10.0) -> None:
    """Terminate a process, then kill it if it has not gone within `timeout` seconds."""
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout)


def memory_mb(pid: int, field: str = "VmRSS") -> float:
    """A memory figure of /proc/<pid>/status in MiB: VmRSS (resident now) or VmHWM (peak); 0 when absent."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (all its threads); 0 when it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class HostCpu:
    """The whole machine's CPU between two readings of /proc/stat: busy and stolen, in % of all its cores.

    Stolen time is time the hypervisor ran something else while this machine had work: on a shared host it
    varies from hour to hour, and every latency figure measured meanwhile suffers with it.
    """

    def __init__(self) -> None:
        self.start = self._ticks()

    @staticmethod
    def _ticks() -> list[int]:
        return [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]

    def shares(self) -> dict[str, float]:
        """`host_busy_pct` (without steal) and `host_steal_pct` since this reading began."""
        delta = [b - a for a, b in zip(self.start, self._ticks(), strict=True)]
        total = max(1, sum(delta))
        user, nice, system, idle, iowait, irq, softirq, steal = delta
        return {"host_busy_pct": round(100 * (user + nice + system + irq + softirq) / total, 1),
                "host_steal_pct": round(100 * steal / total, 1)}


class RedisServer:
    """A private redis-server on a free port (never the shared one), so its owner may restart or kill it.

    `persistent`: an fsync-always append-only file, so a restart keeps every accepted write; otherwise nothing is
    kept and a restart empties it (as a production Redis without persistence).
    """

    def __init__(self, workdir: Path, persistent: bool = False) -> None:
        self.workdir = workdir
        self.persistent = persistent
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        """Its URL (database 0: the whole instance is its owner's)."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        """Start on its port and wait until it answers."""
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is required")
        keep = ["--appendonly", "yes", "--appendfsync", "always"] if self.persistent else ["--appendonly", "no"]
        argv = [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.workdir), "--save", ""]
        argv += keep
        self.proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(self.port, self.proc)
        return self

    def stop(self, kill: bool = False) -> None:
        """Stop it (kill -9 when `kill`)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
            self.proc.wait(10)
