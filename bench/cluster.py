"""The production layout on private servers, for the fault suite and `wall bench soak`.

`Cluster` starts, in a temp dir and on free ports: a private redis-server (no persistence, so a restart
loses every stream, as a real Redis without AOF would), a private PostgreSQL cluster (initdb + pg_ctl, run
as the `postgres` user when we are root), migrates and seeds it, then two `wall serve` (web), one
`wall dispatchd` and one `wall sip`, as the Procfile runs them. It can kill -9 and restart each process
and restart Redis or PostgreSQL. Never touches the machine's shared Redis or PostgreSQL.
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.hub import BIN, ROOT, Measured
from bench.procs import RedisServer, free_port, memory_mb, stop_process

# Timing category of the suite: calendar hours, the `accept` stage lasts 0.0025 h = 9 s, so the SLA
# warning (80 %) is due 7.2 s after a case is reported, overdue at 9 s.
SLA_ACCEPT_H = 0.0025
WORKERS = 50

_SEED = """
import json, django
django.setup()
from django.core.management import call_command
call_command("migrate", interactive=False, verbosity=0)
from dispatchd.models import Category, Worker
from wall.auth import create_token
top = Category.objects.create(code="FLT", name="故障演练", kind="event")
leaf = Category.objects.create(code="FLT01", name="故障演练小类", kind="event", parent=top, timing="calendar",
                               limits={"accept": %(accept)s})
workers = [Worker.objects.create(code=f"FW{i:03d}", name=f"fault worker {i}", state="on_duty") for i in range(%(n)d)]
print(json.dumps({
    "category": leaf.id, "workers": [w.id for w in workers],
    "commander": create_token("commander", "faults-commander"), "wall": create_token("wall", "faults-wall"),
    "worker_tokens": [create_token("worker", f"faults-w{w.id}", w.id) for w in workers[:4]],
}))
"""


def _log(message: str) -> None:
    print(f"cluster: {message}", file=sys.stderr, flush=True)


class PostgresProcess:
    """A private PostgreSQL cluster in `workdir`, trust auth on 127.0.0.1 and a free port."""

    def __init__(self, workdir: Path) -> None:
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
        if not found:
            raise RuntimeError("PostgreSQL binaries not found under /usr/lib/postgresql/*/bin")
        self.bin = Path(found[-1]).parent
        # Its own dir under /tmp: the `postgres` user cannot enter a root-only test dir such as pytest's.
        self.home = Path(tempfile.mkdtemp(prefix="wall-faults-pg-"))
        self.dir = self.home / "pg"
        self.port = free_port()
        self.log = self.home / "postgres.log"

    @property
    def url(self) -> str:
        """The DATABASE_URL of the cluster's database."""
        return f"postgres://postgres@127.0.0.1:{self.port}/wall"

    def _run(self, *argv: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        out = subprocess.run([*prefix, *argv], capture_output=True, text=True)
        if out.returncode:
            raise RuntimeError(f"{argv[0]} failed: {out.stderr[-2000:]}{self._tail()}")

    def _tail(self) -> str:
        return self.log.read_text()[-2000:] if self.log.exists() else ""

    def init(self) -> None:
        """initdb and create the `wall` database (owned by `postgres` when we are root: initdb refuses root)."""
        self.dir.mkdir()
        self.log.touch()
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")
            for path in (self.home, self.dir, self.log):
                os.chown(path, user.pw_uid, user.pw_gid)
        self._run(str(self.bin / "initdb"), "-D", str(self.dir), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                  "--no-sync")
        self.start()
        self._run(str(self.bin / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "wall")

    def start(self) -> None:
        """Start and wait until it accepts connections."""
        options = (f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.dir} -c fsync=off "
                   "-c full_page_writes=off -c max_connections=200")
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.dir), "-l", str(self.log), "-o", options, "-w", "start")

    def stop(self, mode: str = "fast") -> None:
        """Stop (`immediate` is a crash: every backend killed, recovery at the next start)."""
        if (self.dir / "postmaster.pid").exists():
            self._run(str(self.bin / "pg_ctl"), "-D", str(self.dir), "-m", mode, "-w", "stop")

    def remove(self, keep_log_in: Path | None = None) -> None:
        """Delete the cluster's files (after stop), keeping a copy of its log in `keep_log_in`."""
        if keep_log_in is not None and self.log.exists():
            shutil.copy(self.log, keep_log_in / "postgres.log")
        shutil.rmtree(self.home, ignore_errors=True)

    def restart(self) -> None:
        """Crash-stop and start again: every connection of every process breaks."""
        self.stop("immediate")
        self.start()


class Daemon:
    """A process that listens on no port (`wall dispatchd`)."""

    def __init__(self, argv: list[str], env: dict[str, str], log: Path) -> None:
        with open(log, "ab") as out:
            self.proc = subprocess.Popen(argv, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
        self.log = log

    def stop(self) -> None:
        """Terminate, then kill."""
        stop_process(self.proc)


class Cluster:
    """web ×2 + dispatchd + sip on a private Redis and PostgreSQL."""

    KINDS = ("web", "dispatchd", "sip")

    def __init__(self, workdir: Path, **env: str) -> None:
        self.workdir = workdir
        self.redis = RedisServer(workdir)
        self.postgres = PostgresProcess(workdir)
        self.extra_env = env
        self.web_ports = [free_port(), free_port()]
        self.sip_http_port = free_port()
        self.sip_port = free_port()
        self.procs: dict[str, Measured | Daemon] = {}
        self.seed: dict[str, Any] = {}

    # ---- start and stop -------------------------------------------------------------------

    def env(self) -> dict[str, str]:
        """The environment of every process of the cluster."""
        env = dict(os.environ, REDIS_URL=self.redis.url, DATABASE_URL=self.postgres.url,
                   WALL_DATA_DIR=str(self.workdir), DJANGO_SETTINGS_MODULE="wall.settings",
                   WALL_GB_SIP_PORT=str(self.sip_port), WALL_GB_HTTP_PORT=str(self.sip_http_port),
                   WALL_GB_RELAY_URL=f"http://127.0.0.1:{self.sip_http_port}", WALL_DAEMON_INTERVAL_S="0.5",
                   WALL_LOG_LEVEL="WARNING", **self.extra_env)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
        return env

    def start(self) -> Cluster:
        """Start the servers, migrate and seed the database, start every process."""
        _log(f"starting in {self.workdir}")
        self.redis.start()
        self.postgres.init()
        out = subprocess.run([sys.executable, "-c", _SEED % {"accept": SLA_ACCEPT_H, "n": WORKERS}],
                             env=self.env(), cwd=ROOT, capture_output=True, text=True)
        if out.returncode:
            raise RuntimeError(f"migrating the cluster's database failed: {out.stderr[-3000:]}")
        self.seed = json.loads(out.stdout.strip().splitlines()[-1])
        for name in ("web1", "web2", "dispatchd", "sip"):
            self.start_process(name)
        return self

    def start_process(self, name: str) -> None:
        """Start (or start again) one process: web1, web2, dispatchd or sip."""
        env, log = self.env(), self.workdir / f"{name}.log"
        wall = str(BIN / "wall")
        if name.startswith("web"):
            port = self.web_ports[int(name[3:]) - 1]
            self.procs[name] = Measured([wall, "serve", "--host", "127.0.0.1", "--port", str(port)], env, port, log)
        elif name == "sip":
            self.procs[name] = Measured([wall, "sip"], env, self.sip_http_port, log)
        else:
            self.procs[name] = Daemon([wall, "dispatchd"], env, log)

    def stop(self) -> None:
        """Stop everything (processes first, then the servers)."""
        for proc in self.procs.values():
            with contextlib.suppress(Exception):
                proc.stop()
        self.redis.stop()
        with contextlib.suppress(Exception):
            self.postgres.stop("immediate")
        self.postgres.remove(keep_log_in=self.workdir)

    # ---- faults ---------------------------------------------------------------------------

    def kill9(self, name: str) -> None:
        """kill -9 one process and start it again at once, as a supervisor would."""
        proc = self.procs[name].proc
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        self.start_process(name)

    def restart_redis(self, down_s: float = 1.0) -> None:
        """kill -9 Redis, leave it down `down_s`, start it empty on the same port."""
        self.redis.stop(kill=True)
        time.sleep(down_s)
        self.redis.start()

    def restart_postgres(self) -> None:
        """Crash PostgreSQL (immediate stop: every backend killed) and start it again."""
        self.postgres.restart()

    # ---- figures --------------------------------------------------------------------------

    def rss_mb(self) -> dict[str, float]:
        """Current RSS (MiB) of each process."""
        running = self.procs.items()
        return {name: round(memory_mb(proc.proc.pid), 1) for name, proc in running if proc.proc.poll() is None}

    def alive(self) -> dict[str, bool]:
        """Whether each process is running."""
        return {name: proc.proc.poll() is None for name, proc in self.procs.items()}

    def web_base(self, index: int) -> str:
        """http://127.0.0.1:port of web process `index` (0 or 1)."""
        return f"http://127.0.0.1:{self.web_ports[index]}"
