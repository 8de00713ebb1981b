"""Real processes for hub tests: `wall serve` subprocesses and private redis-server instances."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from bench import procs
from bench.procs import free_port, memory_mb, stop_process, wait_port

__all__ = ["ROOT", "WALL", "RedisServer", "WallServer", "free_port", "prepare_data_dir", "wait_port"]

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
        stop_process(self.proc, 5)

    def rss_mb(self) -> float:
        """Resident memory of the process in MiB."""
        assert self.proc is not None
        return memory_mb(self.proc.pid)


class RedisServer(procs.RedisServer):
    """A private redis-server for a hub test: append-only (fsync always), so a restart keeps every accepted write."""

    def __init__(self, workdir: Path) -> None:
        super().__init__(workdir, persistent=True)

    def start_on_same_port(self) -> RedisServer:
        """Start again after stop(): it reloads its append-only file."""
        return self.start()
