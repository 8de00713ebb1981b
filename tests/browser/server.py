"""A real `wall demo --no-simulate` subprocess for the browser tests and the wall bench, restartable."""

from __future__ import annotations

import atexit
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx

from bench.browser import CHROMIUM, CHROMIUM_ARGS  # noqa: F401 - the browser tests' import point
from bench.procs import stop_process
from tests.realtime.servers import WALL, free_port, wait_port

ROOT = Path(__file__).resolve().parents[2]
_SEED = "import django; django.setup(); from wall.cli import prepare_demo; prepare_demo()"  # as `wall demo` does
_template: Path | None = None


def seeded_template() -> Path:
    """A data dir with the demo city migrated and seeded, made once per test process (seeding takes most of a
    minute on a loaded machine; each demo server starts from a copy of it instead)."""
    global _template
    if _template is None:
        path = Path(tempfile.mkdtemp(prefix="wall-demo-template-"))
        atexit.register(shutil.rmtree, path, True)
        env = dict(os.environ, WALL_DATA_DIR=str(path), DJANGO_SETTINGS_MODULE="wall.settings")
        env.pop("DATABASE_URL", None)
        env.pop("REDIS_URL", None)
        seeding = subprocess.run([sys.executable, "-c", _SEED], env=env, cwd=ROOT, capture_output=True, text=True,
                                 timeout=600)
        if seeding.returncode:
            raise RuntimeError(f"seeding the demo city failed:\n{seeding.stderr[-3000:]}")
        _template = path
    return _template


class DemoServer:
    """The demo city served on a free port from its own data dir; stop() and start() keep the data."""

    def __init__(self, data_dir: Path, **env: str) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.env = dict(os.environ, WALL_DATA_DIR=str(data_dir), WALL_GB_SIP_PORT=str(free_port()),
                        WALL_GB_HTTP_PORT=str(free_port()), **env)
        self.env.pop("DATABASE_URL", None)
        if "REDIS_URL" not in env:
            self.env.pop("REDIS_URL", None)
        self.proc: subprocess.Popen | None = None
        self.log = data_dir / "demo.log"
        self.commander = ""

    @property
    def base(self) -> str:
        """http://127.0.0.1:port"""
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 120.0) -> DemoServer:
        """Start (from a copy of the seeded demo city on the first start) and wait until it listens."""
        if not (self.data_dir / "wall.sqlite3").exists():
            shutil.copytree(seeded_template(), self.data_dir, dirs_exist_ok=True)
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [WALL, "demo", "--no-simulate", "--port", str(self.port)], env=self.env, cwd=ROOT,
                stdout=log, stderr=subprocess.STDOUT,
            )
        try:
            wait_port(self.port, self.proc, timeout=timeout)
        except RuntimeError as exc:
            self.stop()
            raise RuntimeError(f"wall demo failed: {exc}\n{self.log.read_text()[-3000:]}") from exc
        tokens = re.findall(r"commander token: (\S+)", self.log.read_text())
        self.commander = tokens[-1] if tokens else self.token("commander", "browser-commander")
        return self

    def token(self, role: str, name: str) -> str:
        """A fresh API token of `role` (via `wall token create`)."""
        out = subprocess.run([WALL, "token", "create", "--role", role, "--name", name], env=self.env, cwd=ROOT,
                             capture_output=True, text=True, check=True)
        return out.stdout.strip().splitlines()[-1]

    def stop(self) -> None:
        """Stop the process (SIGTERM, then SIGKILL)."""
        stop_process(self.proc)

    def api(self, method: str, path: str, **kwargs) -> httpx.Response:
        """Call the API as the demo commander."""
        headers = {"Authorization": f"Bearer {self.commander}"}
        return httpx.request(method, self.base + path, headers=headers, timeout=15, **kwargs)
