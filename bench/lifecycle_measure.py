"""bench/lifecycle.py's meters: CPU of every process, PostgreSQL's counters, the backlog.

CPU is read from the processes (psutil): for each service its process tree, and for PostgreSQL the
postmaster's tree when the cluster is the run's own. A process's CPU counts its own time plus that
of its children it has reaped, so backends and sandbox children that exited during the run are
counted too. RabbitMQ is the machine's shared server: its process's CPU includes whatever else
used it meanwhile.
"""

from __future__ import annotations

import contextlib
import time

import psutil
import psycopg

from bench.common import _machine_busy

OUTBOXES = ("intake", "routing", "notify", "reporting")
MONITOR = "lifecycle_monitor"  # the role the benchmark's own queries run as, left out of the counts
STATEMENTS = (  # top-level statements of the run's database, BEGIN and COMMIT included
    "SELECT coalesce(sum(calls), 0) FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid"
    f" JOIN pg_roles r ON r.oid = s.userid WHERE d.datname = current_database() AND r.rolname <> '{MONITOR}'"
)

BY_QUERY = (  # the same statements, each query's calls
    "SELECT s.queryid, sum(s.calls), min(s.query) FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid"
    f" JOIN pg_roles r ON r.oid = s.userid WHERE d.datname = current_database() AND r.rolname <> '{MONITOR}'"
    " GROUP BY s.queryid"
)


def tree_cpu(root: psutil.Process) -> float:
    """CPU seconds of a process, its live descendants and every child they have reaped."""
    total = 0.0
    with contextlib.suppress(psutil.Error):
        for process in [root, *root.children(recursive=True)]:
            with contextlib.suppress(psutil.Error):
                times = process.cpu_times()
                total += times.user + times.system + times.children_user + times.children_system
    return total


def busiest_statements(before: dict, after: dict, complaints: int, top: int = 60) -> list[dict]:
    """The statements called most often between two `Monitor.by_query()` readings, per complaint."""
    calls = {key: after[key][0] - before.get(key, (0.0, ""))[0] for key in after}
    busiest = sorted((key for key in calls if calls[key] > 0), key=lambda key: -calls[key])[:top]
    return [
        {"per_complaint": round(calls[key] / complaints, 2), "query": " ".join(after[key][1].split())[:160]}
        for key in busiest
    ]


def _cpu(process: psutil.Process | None) -> float:
    if process is None:
        return 0.0
    with contextlib.suppress(psutil.Error):
        times = process.cpu_times()
        return times.user + times.system
    return 0.0


class Monitor:
    """The benchmark's own connection to the run's database, as MONITOR where it can be created
    (pg_stat_statements then leaves its statements out); it counts its transactions itself, which
    are taken from the database's commits."""

    def __init__(self, db_url: str, statements: bool):
        self.statements = statements
        self.conn = psycopg.connect(db_url, autocommit=True)
        if statements:
            self.conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
            with contextlib.suppress(psycopg.errors.DuplicateObject):
                self.conn.execute(f"CREATE ROLE {MONITOR} SUPERUSER LOGIN")
            self.conn.close()
            self.conn = psycopg.connect(db_url, autocommit=True, user=MONITOR)
        self.transactions = 0
        self.backend = psutil.Process(self.query("SELECT pg_backend_pid()")[0][0])

    def query(self, text: str) -> list[tuple]:
        self.transactions += 1
        return self.conn.execute(text).fetchall()

    def counters(self) -> dict[str, float]:
        """Statements (when counted), commits, events written to the outboxes, and the moment."""
        found: dict[str, float] = {}
        if self.statements:
            found["statements"] = float(self.query(STATEMENTS)[0][0])
        commits = self.query("SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()")[
            0
        ][0]
        found["commits"] = float(commits - self.transactions)
        union = " UNION ALL ".join(f"SELECT count(*) FROM {schema}.outbox" for schema in OUTBOXES)
        found["events"] = float(sum(row[0] for row in self.query(union)))
        found["at"] = time.monotonic()
        return found

    def by_query(self) -> dict[int, tuple[float, str]]:
        """Calls so far of each statement (empty when statements are not counted)."""
        if not self.statements:
            return {}
        return {queryid: (float(calls), text) for queryid, calls, text in self.query(BY_QUERY)}

    def backlog(self) -> int:
        """Events not yet published and notifications not yet delivered."""
        union = " UNION ALL ".join(
            f"SELECT count(*) FROM {schema}.outbox WHERE published_at IS NULL" for schema in OUTBOXES
        )
        rows = self.query(
            f"{union} UNION ALL SELECT count(*) FROM notify.deliveries WHERE state IN ('pending', 'sending')"
        )
        return sum(row[0] for row in rows)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.conn.close()


class Meter:
    """CPU seconds so far, by name: each service, `postgresql`, `rabbitmq`; and the machine's."""

    def __init__(self, roots: dict[str, int], monitor: Monitor, postmaster: int | None, db_url: str):
        self.roots = {name: psutil.Process(pid) for name, pid in roots.items()}
        self.monitor = monitor
        self.postmaster = psutil.Process(postmaster) if postmaster else None
        self.db_url = db_url
        self.rabbit = next((p for p in psutil.process_iter(["name"]) if p.info["name"] == "beam.smp"), None)

    def _postgres(self) -> float:
        if self.postmaster is not None:
            return tree_cpu(self.postmaster) - _cpu(self.monitor.backend)
        # the shared server: this database's backends alive now (those that exited are missed)
        pids = self.monitor.query(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return sum(_cpu(psutil.Process(pid)) for (pid,) in pids if psutil.pid_exists(pid))

    def read(self) -> dict[str, float]:
        found = {name: tree_cpu(root) for name, root in self.roots.items()}
        found["postgresql"] = self._postgres()
        found["rabbitmq"] = _cpu(self.rabbit)
        found["machine"] = _machine_busy()
        found["at"] = time.monotonic()
        return found


def delta(after: dict[str, float], before: dict[str, float]) -> dict[str, float]:
    return {name: after[name] - before.get(name, 0.0) for name in after}


def quiet(monitor: Monitor, depths, timeout: float) -> float:
    """Wait until nothing is left to publish, consume or deliver; how long it took."""
    began = time.monotonic()
    while time.monotonic() - began < timeout:
        if monitor.backlog() == 0 and sum(depths().values()) == 0:
            return time.monotonic() - began
        time.sleep(0.2)
    raise RuntimeError(f"the system did not go quiet within {timeout:.0f} s")
