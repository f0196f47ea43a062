"""bench/intake.py's server side: the request body, a level's figures, CPU meters, the run's database,
and intake under gunicorn on a free port.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg import sql

from bench.common import (
    _machine_busy,
    _own_cpu,
    _postgres_is_ours,
    _processes,
    database_url,
    with_descendants,
)
from bench.common import create_database as create_empty_database
from services.common.db import create_pool
from services.common.migrations import apply_migrations
from services.intake.seed import load_reference
from services.runner.registry import all_schemas

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
MALL = "demo"
TARGET_SHARE = 40.0  # intake at 8 clients, as % of the raw baseline
SHARE_AT = 8

# The valid desk complaint of the API tests (tests/integration/conftest.py).
BODY = {
    "channel": "phone",
    "category": "merchant_service",
    "customer": {"name": "王女士", "phone": "13912345678"},
    "floor": "3F",
    "merchant_code": "M-3F-001",
    "description": "店员态度恶劣，拒绝换货",
    "customer_request": ["exchange"],
    "amount": "399.00",
}

# Settings chosen by measurement on 2 cores (docs/benchmarks.md); all settable by flags.
DEFAULT_WORKERS = 3
DEFAULT_WORKER_CLASS = "gthread"
DEFAULT_THREADS = 2


# --------------------------------------------------------------------------- results


@dataclass
class Level:
    clients: int
    ok: int = 0
    errors: int = 0
    seconds: float = 0.0
    p50_ms: float | None = None
    p99_ms: float | None = None
    cpu: CpuUse | None = None
    spread: str = ""  # keep-alive connections per gunicorn worker, sampled during the level
    notes: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0


# --------------------------------------------------------------------------- CPU accounting


@dataclass
class CpuUse:
    """CPU seconds spent during one level, by whom; `others` is everything not ours (and steal)."""

    seconds: float
    app: float = 0.0
    postgres: float = 0.0
    client: float = 0.0
    others: float = 0.0

    def per_op_ms(self, ops: int) -> dict[str, float]:
        if not ops:
            return {}
        return {name: 1000 * getattr(self, name) / ops for name in ("app", "postgres", "client")}

    @property
    def others_share(self) -> float:
        """Other processes' CPU as a % of the machine's capacity during the level."""
        return 100 * self.others / (self.seconds * (os.cpu_count() or 1))


class CpuMeter:
    """Splits the machine's CPU during a level into intake (gunicorn), PostgreSQL, client, others."""

    def __init__(self, database: str, app_pid: int | None = None):
        self.database = database
        self.app_pid = app_pid

    def start(self) -> None:
        self._began = time.perf_counter()
        self._busy = _machine_busy()
        self._own = _own_cpu(children=True)
        self._procs = _processes()

    def stop(self) -> CpuUse:
        procs = _processes()
        use = CpuUse(seconds=time.perf_counter() - self._began)
        use.client = _own_cpu(children=True) - self._own
        app_pids = with_descendants({self.app_pid} if self.app_pid else set(), procs)
        for pid, (_, name, cpu) in procs.items():
            delta = cpu - self._procs.get(pid, (0, "", 0.0))[2]
            if pid in app_pids:
                use.app += delta
            elif name == "postgres" and _postgres_is_ours(pid, self.database):
                use.postgres += delta
        use.others = max(0.0, _machine_busy() - self._busy - use.app - use.postgres - use.client)
        return use


# --------------------------------------------------------------------------- database


def create_database(admin_url: str, name: str) -> str:
    """Create, migrate and seed the database; return its URL."""
    create_empty_database(admin_url, name)
    url = database_url(admin_url, name)
    apply_migrations(url, all_schemas())
    pool = create_pool(url, 1, 1, name="bench-seed")
    pool.open(wait=True, timeout=30)
    try:
        load_reference(pool, MALL)
    finally:
        pool.close()
    return url


def count_rows(url: str) -> dict[str, int]:
    with psycopg.connect(url, autocommit=True) as conn:
        return {
            table: conn.execute(
                sql.SQL("SELECT count(*) FROM intake.{}").format(sql.Identifier(table))
            ).fetchone()[0]
            for table in ("complaints", "outbox")
        }


# --------------------------------------------------------------------------- gunicorn


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def connection_spread(port: int) -> str:
    """The established connections to `port` per process, most first, e.g. "4/3/1" (ss, Linux).

    A keep-alive connection stays with the worker that accepted it, and each worker has its own
    listening socket (--reuse-port) the kernel picks by a hash of the connection: with 8 clients
    and 3 workers the split varies from run to run, and so does the throughput a level gets.
    """
    try:
        listed = subprocess.run(
            ["ss", "-tnpH", "state", "established", f"( sport = :{port} )"],
            capture_output=True,
            text=True,
            timeout=5,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return "?"
    counts = Counter(re.findall(r"pid=(\d+)", listed))
    return "/".join(str(n) for _pid, n in counts.most_common()) or "?"


@dataclass
class ServerConfig:
    workers: int
    worker_class: str
    threads: int
    pool_max: int

    def describe(self) -> str:
        threads = f" --threads {self.threads}" if self.worker_class == "gthread" else ""
        return (
            f"--workers {self.workers} --worker-class {self.worker_class}{threads}"
            f" (DB_POOL_MAX={self.pool_max} per worker)"
        )


class Gunicorn:
    """Intake under gunicorn in a session of its own, so it is stopped as a whole."""

    def __init__(self, config: ServerConfig, app: str, database_url: str, secret: str, log_path: Path):
        self.config = config
        self.port = free_port()
        self.log_path = log_path
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "AUTH_SECRET": secret,
            "MALL_ID": MALL,
            "LOG_LEVEL": "WARNING",
            "MIGRATE_ON_START": "false",
            "DB_POOL_MIN": "1",
            "DB_POOL_MAX": str(config.pool_max),
        }
        env.pop("AMQP_URL", None)
        command = [
            str(VENV_BIN / "gunicorn"),
            app,
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            str(config.workers),
            "--worker-class",
            config.worker_class,
            "--threads",
            str(config.threads),
            "--backlog",
            "2048",
            "--reuse-port",
            "--keep-alive",
            "10",
            "--timeout",
            "60",
            "--graceful-timeout",
            "5",
            "--log-level",
            "warning",
        ]
        self._log = log_path.open("wb")
        self.process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}:\n{self.log_tail()}")
            with contextlib.suppress(OSError, http.client.HTTPException):
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                try:
                    conn.request("GET", "/readyz")
                    if conn.getresponse().status == 200:
                        return
                finally:
                    conn.close()
            time.sleep(0.2)
        raise RuntimeError(f"intake was not ready within {timeout:.0f} s:\n{self.log_tail()}")

    def log_tail(self, lines: int = 30) -> str:
        self._log.flush()
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return ""

    def stop(self) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)
        self._log.close()


# --------------------------------------------------------------------------- small helpers


def _ms_or_none(seconds: float | None) -> float | None:
    return None if seconds is None else seconds * 1000
