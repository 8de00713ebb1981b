"""Real processes for hub tests: `wall serve` subprocesses and private redis-server instances."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WALL = str(ROOT / ".venv" / "bin" / "wall")

_SETUP = """
import json, django
django.setup()
from django.core.management import call_command
call_command("migrate", interactive=False, verbosity=0)
from dispatchd.models import Worker
from wall.auth import ROLES, create_token
workers = [Worker.objects.create(code=f"HUBW{i}", name=f"hub worker {i}") for i in range(2)]
tokens = {role: create_token(role, f"hub-{role}", workers[0].id if role == "worker" else None) for role in ROLES}
tokens["worker_id"] = workers[0].id
tokens["other_worker_id"] = workers[1].id
print(json.dumps(tokens))
"""


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_port(port: int, proc: subprocess.Popen, timeout: float = 30.0) -> None:
    """Wait until something accepts connections on `port`; fail if `proc` dies first."""
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


def prepare_data_dir(path: Path) -> dict:
    """Migrate a fresh data dir and create one token per role (and two workers); return the tokens."""
    env = dict(os.environ, WALL_DATA_DIR=str(path), DJANGO_SETTINGS_MODULE="wall.settings")
    env.pop("DATABASE_URL", None)
    out = subprocess.run([sys.executable, "-c", _SETUP], env=env, cwd=ROOT, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


class WallServer:
    """A `wall serve` subprocess on a free port."""

    def __init__(self, data_dir: Path, redis_url: str, **env: str) -> None:
        self.data_dir = data_dir
        self.redis_url = redis_url
        self.extra_env = env
        self.port = free_port()
        self.proc: subprocess.Popen | None = None
        self.log = data_dir / f"serve-{self.port}.log"

    @property
    def ws_url(self) -> str:
        """The hub endpoint."""
        return f"ws://127.0.0.1:{self.port}/ws/hub"

    def start(self) -> WallServer:
        """Start (or restart) the process and wait until it listens."""
        env = dict(os.environ, WALL_DATA_DIR=str(self.data_dir), REDIS_URL=self.redis_url, **self.extra_env)
        env.pop("DATABASE_URL", None)
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [WALL, "serve", "--host", "127.0.0.1", "--port", str(self.port)],
                env=env,
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            wait_port(self.port, self.proc)
        except RuntimeError as exc:
            self.stop()
            raise RuntimeError(f"wall serve failed: {exc}\n{self.log.read_text()[-3000:]}") from exc
        return self

    def kill(self) -> None:
        """kill -9 the process."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        """Stop the process (gently, then not)."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.kill()

    def rss_mb(self) -> float:
        """Resident memory of the process in MiB."""
        assert self.proc is not None
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        raise RuntimeError("no VmRSS")


class RedisServer:
    """A private redis-server on a free port, so a test may restart it (never the shared one)."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        """Its URL (database 0: the whole instance is this test's)."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        """Start with an fsync-always append-only file, so a restart keeps every accepted write."""
        binary = shutil.which("redis-server")
        assert binary, "redis-server is required"
        self.proc = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.workdir),
                "--save",
                "",
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_port(self.port, self.proc)
        return self

    def start_on_same_port(self) -> RedisServer:
        """Start again after stop(): it reloads its append-only file."""
        return self.start()

    def stop(self) -> None:
        """Stop the server."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
