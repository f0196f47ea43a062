"""Helpers the benchmark scripts share: the machine, CPU accounting from /proc, the database, signals.

Imported as `bench.common`, which works both for `python bench/<script>.py` and `python -m bench.<script>`
(the project's editable install puts the repository on sys.path, as it does for `services`).
"""

from __future__ import annotations

import contextlib
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import psutil
import psycopg
from psycopg import sql

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
POSTGRES_FACTS = ("server_version", "synchronous_commit", "fsync", "shared_buffers")


class Interrupted(Exception):
    """SIGTERM / SIGHUP: stop like Ctrl+C, cleaning up on the way out."""


def _on_signal(signum, _frame):
    raise Interrupted(signal.Signals(signum).name)


ADMIN_URL = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def add_admin_url(parser) -> None:
    """`--admin-url`: the PostgreSQL server the benchmark creates (and drops) its database on."""
    parser.add_argument("--admin-url", default=ADMIN_URL, help="PostgreSQL to create the run's database on")


def run_dropping_on_stop(run, args) -> int:
    """`run(args)`, stopping like Ctrl+C on SIGTERM/SIGHUP; the run drops its database on the way out."""
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _on_signal)
    try:
        return run(args)
    except (KeyboardInterrupt, Interrupted):
        print("interrupted; the benchmark database was dropped", file=sys.stderr)
        return 130


def run_until_stopped(run, args, *, show_traceback: bool = False) -> int:
    """`run(args)` as intake.py and routing.py run it: SIGTERM/SIGHUP stop it like Ctrl+C (the run
    removes what it made on the way out), and an error is printed as a line, not raised."""
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _on_signal)
    try:
        return run(args)
    except (KeyboardInterrupt, Interrupted):
        print("\ninterrupted: stopped and cleaned up", file=sys.stderr)
        return 130
    except Exception as exc:
        if show_traceback:
            traceback.print_exc()
        print(f"\nbenchmark failed: {exc}", file=sys.stderr)
        return 1


# --------------------------------------------------------------------------- small helpers


def commit_of(root: Path) -> str:
    """The checkout's HEAD, and whether its tracked files were changed since."""

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True).stdout.strip()

    head = git("rev-parse", "--short=12", "HEAD") or "?"
    return head + (
        " (with uncommitted changes)" if git("status", "--porcelain", "--untracked-files=no") else ""
    )


def _percentile(values: list[float], fraction: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))
    return ordered[index]


def _fmt(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


# --------------------------------------------------------------------------- machine


def machine(**extra: str) -> dict[str, str]:
    """The machine and software the figures were taken on; `extra` facts go before the date."""
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    ram = "?"
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    return {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "ram": ram,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        **extra,
        "date": datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
    }


def _machine_busy() -> float:
    """CPU seconds the whole machine has been busy (steal included) since boot."""
    with contextlib.suppress(OSError, ValueError):
        values = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
        user, nice, system, _idle, _iowait, irq, softirq, steal = values
        return (user + nice + system + irq + softirq + steal) / CLOCK_TICKS
    return 0.0


def busy_share(seconds: float = 1.0) -> float:
    """% of the machine busy over the next `seconds`: the figures are only fair on an idle machine."""
    before = _machine_busy()
    time.sleep(seconds)
    return 100 * (_machine_busy() - before) / (seconds * (os.cpu_count() or 1))


def wait_idle(limit: float, busy_below: float = 15.0, sample: float = 1.0, announce: bool = False) -> float:
    """Wait up to `limit` seconds for a `sample`-second stretch with the machine less than `busy_below`%
    busy; with `announce`, say so when it has to wait."""
    deadline = time.monotonic() + limit
    busy = busy_share(sample)
    announced = False
    while busy >= busy_below and time.monotonic() < deadline:
        if announce and not announced:
            print(
                f"the machine is {busy:.0f}% busy: waiting up to {limit:.0f} s for it to calm down ...",
                flush=True,
            )
            announced = True
        busy = busy_share(sample)
    return busy


# --------------------------------------------------------------------------- CPU accounting


def _processes() -> dict[int, tuple[int, str, float]]:
    """pid -> (parent pid, name, CPU seconds) of every process, from /proc."""
    found = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, ValueError, IndexError):
            text = Path(entry.path, "stat").read_text()
            name = text[text.index("(") + 1 : text.rindex(")")]
            rest = text[text.rindex(")") + 2 :].split()
            found[int(entry.name)] = (int(rest[1]), name, (int(rest[11]) + int(rest[12])) / CLOCK_TICKS)
    return found


def _own_cpu(children: bool = False) -> float:
    """CPU seconds of this process; with `children`, also of its children that have been waited for."""
    times = os.times()
    own = times.user + times.system
    return own + times.children_user + times.children_system if children else own


def _postgres_is_ours(pid: int, database: str) -> bool:
    """A backend of our database, or a shared helper (WAL writer, checkpointer ...)."""
    with contextlib.suppress(OSError):
        title = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        words = title.split(":", 2)[-1].split()
        is_backend = len(words) >= 3 and ("(" in words[2] or words[2] == "[local]")
        return not is_backend or words[1] == database
    return False


# --------------------------------------------------------------------------- database


def database_url(admin_url: str, name: str) -> str:
    base = admin_url.partition("?")[0].rsplit("/", 1)[0]
    return f"{base}/{name}"


def _admin(admin_url: str, statement: sql.Composable) -> None:
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=10) as conn:
        conn.execute(statement)


def create_database(admin_url: str, name: str) -> None:
    _admin(admin_url, sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def drop_database(admin_url: str, name: str) -> None:
    _admin(admin_url, sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def postgres_facts(url: str, names: tuple[str, ...] = POSTGRES_FACTS) -> dict[str, str]:
    with psycopg.connect(url, autocommit=True) as conn:
        return {
            name: conn.execute(sql.SQL("SHOW {}").format(sql.Identifier(name))).fetchone()[0]
            for name in names
        }


def with_descendants(pids: set[int], procs: dict) -> set[int]:
    """The given processes and every process below them (procs as `_processes()` returns them)."""
    found = set(pids)
    grown = bool(found)
    while grown:
        before = len(found)
        found |= {pid for pid, (ppid, _, _) in procs.items() if ppid in found}
        grown = len(found) > before
    return found


# --------------------------------------------------------------------------- the whole system as processes
# What bench/soak.py and bench/lifecycle.py share to run every service of deploy/compose.yaml as
# processes (tests/support/deployment.py): a database and a RabbitMQ vhost of the run's own, the
# compose jobs, the demo mall and its staff, and stopping it all. `services` and `tests` are
# imported only inside the functions, so that a benchmark can first choose which checkout's code
# they come from (bench/lifecycle.py --against).

AMQP_BASE = os.environ.get("BENCH_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672")


def staff_roles() -> tuple[str, ...]:
    from services.routing.domain.model import QUEUES

    return tuple(sorted(QUEUES))


@dataclass
class Servers:
    """The database and the vhost of this run, removed at the end."""

    name: str = field(default_factory=lambda: f"mall_soak_{os.getpid()}")
    admin_url: str = ADMIN_URL
    created_db: bool = False
    created_vhost: bool = False

    @property
    def db_url(self) -> str:
        return database_url(self.admin_url, self.name)

    @property
    def amqp_url(self) -> str:
        return f"{AMQP_BASE}/{self.name}"

    def create(self) -> None:
        create_database(self.admin_url, self.name)
        self.created_db = True
        rabbitmqctl("add_vhost", self.name)
        self.created_vhost = True
        rabbitmqctl("set_permissions", "-p", self.name, "guest", ".*", ".*", ".*")

    def remove(self) -> None:
        if self.created_vhost:
            with contextlib.suppress(Exception):
                rabbitmqctl("delete_vhost", self.name)
        if self.created_db:
            with contextlib.suppress(Exception):
                drop_database(self.admin_url, self.name)


def rabbitmqctl(*args: str) -> str:
    return subprocess.run(
        ["rabbitmqctl", "-q", *args], check=True, capture_output=True, text=True, timeout=120
    ).stdout


def vhost_queues(vhost: str) -> list[str]:
    """Every queue of the vhost (the management API is not always enabled; rabbitmqctl is there)."""
    names = rabbitmqctl("list_queues", "-p", vhost, "name", "--no-table-headers").split()
    return sorted(name for name in names if name != "name")


def prepare(
    deployment, staff_per_role: int, hours: float
) -> tuple[str, list[tuple[str, str, str, int, int]]]:
    """The compose jobs, the demo mall, a desk and the staff: (desk token, [(user, role, token, n of
    the role's members, how many members)])."""
    from bench import soak_clients  # imported late: see the note above

    roles = staff_roles()
    for job in ("migrate", "deploy-diagram"):
        done = deployment.job(job)
        if done.returncode != 0:
            raise RuntimeError(f"{job} failed: {done.stderr or done.stdout}")
    deployment.cli("seed")
    reference = soak_clients._reference()
    scope = {
        "floor_supervisor": [arg for floor in reference["floors"] for arg in ("--floor", floor["code"])],
        "department_manager": [
            arg for item in reference["departments"] for arg in ("--department", item["code"])
        ],
    }
    users = [("soak-desk", "service_desk")] + [
        (f"soak-{role}-{n}", role) for role in roles for n in range(1, staff_per_role + 1)
    ]

    def create(user: tuple[str, str]) -> str:
        username, role = user
        deployment.cli("user", "create", username, "--role", role, *scope.get(role, []))
        return deployment.cli("token", "user", username, "--hours", str(hours))

    with ThreadPoolExecutor(max_workers=4) as pool:
        tokens = list(pool.map(create, users))
    staff = [
        (username, role, token, int(username.rsplit("-", 1)[1]) - 1, staff_per_role)
        for (username, role), token in zip(users[1:], tokens[1:], strict=True)
    ]
    return tokens[0], staff


def stop_all(deployment, started: list) -> None:
    """SIGTERM every service (the gateway first), then kill whatever of what was started is left."""
    for name in reversed(list(deployment.processes)):
        process = deployment.processes[name]
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 40
    for process in deployment.processes.values():
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
    deployment.kill_leftovers()
    for process in started:  # sandbox processes a killed worker may have left behind
        with contextlib.suppress(psutil.Error):
            if process.is_running():
                process.kill()


REPOSITORY = Path(__file__).resolve().parent.parent


@contextlib.contextmanager
def worktree(rev: str):
    """A detached checkout of `rev` beside this one, for a benchmark's `--against REV`; removed after."""
    folder = Path(tempfile.mkdtemp(prefix="mall_bench_rev_")) / "tree"
    subprocess.run(
        ["git", "worktree", "add", "--detach", str(folder), rev],
        cwd=REPOSITORY,
        check=True,
        capture_output=True,
    )
    try:
        yield folder
    finally:
        subprocess.run(
            ["git", "worktree", "remove", "--force", str(folder)], cwd=REPOSITORY, capture_output=True
        )
        with contextlib.suppress(OSError):
            folder.parent.rmdir()
