"""Helpers the benchmark scripts share: the machine, CPU accounting from /proc, the database, signals.

Imported as `bench.common`, which works both for `python bench/<script>.py` and `python -m bench.<script>`
(the project's editable install puts the repository on sys.path, as it does for `services`).
"""

from __future__ import annotations

import contextlib
import os
import platform
import signal
import sys
import time
from datetime import datetime
from pathlib import Path

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


# --------------------------------------------------------------------------- small helpers


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
