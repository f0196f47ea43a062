"""What bench/soak.py watches while it runs: the machine and the commit, the depth of every queue of
the vhost, the services' processes (RSS and CPU, each with its sandbox children), PostgreSQL's facts.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import os
from pathlib import Path
from urllib.parse import quote, unquote

import psutil
import psycopg
import requests
from kombu import Connection

from bench.common import AMQP_BASE, commit_of
from bench.common import machine as base_machine

ROOT = Path(__file__).resolve().parent.parent
MANAGEMENT_URL = os.environ.get("BENCH_MANAGEMENT_URL", "http://127.0.0.1:15672")
OUTBOXES = ("intake", "routing", "notify", "reporting")


# --------------------------------------------------------------------------- the machine and the code


def machine(db_url: str) -> dict[str, str]:
    with psycopg.connect(db_url, autocommit=True) as conn:
        postgres = conn.execute("SHOW server_version").fetchone()[0]
    with Connection(f"{AMQP_BASE}/") as connection:
        connection.connect()
        rabbit = connection.connection.server_properties.get("version", "?")
        rabbit = rabbit.decode() if isinstance(rabbit, bytes) else rabbit
    versions = {
        name: importlib.metadata.version(name) for name in ("SpiffWorkflow", "kombu", "psycopg", "flask")
    }
    return base_machine(
        postgresql=postgres,
        rabbitmq=str(rabbit),
        libraries=", ".join(f"{name} {version}" for name, version in versions.items()),
        commit=commit_of(ROOT),
        load_before=" ".join(f"{x:.2f}" for x in os.getloadavg()),
    )


# --------------------------------------------------------------------------- a run's own servers


class QueueDepths:
    """Ready messages per queue of the vhost: from RabbitMQ's management API when it answers
    (every queue of the vhost), else by passive declare of the queues named (a queue gone closes
    the channel, so the channel is opened again for the next one)."""

    def __init__(self, amqp_url: str, management_url: str = MANAGEMENT_URL):
        self.connection = Connection(amqp_url)
        self.channel = None
        vhost = amqp_url.rsplit("/", 1)[1]
        self.api = f"{management_url}/api/queues/{quote(unquote(vhost), safe='')}"
        self.auth = (self.connection.userid, self.connection.password)
        self.use_api = self._from_api() is not None

    def _from_api(self) -> dict[str, int] | None:
        try:
            answer = requests.get(
                self.api, params={"columns": "name,messages_ready"}, auth=self.auth, timeout=5
            )
            answer.raise_for_status()
            return {row["name"]: int(row.get("messages_ready") or 0) for row in answer.json()}
        except (requests.RequestException, ValueError):
            return None

    def depths(self, queues: list[str]) -> dict[str, int]:
        if self.use_api and (found := self._from_api()) is not None:
            return found
        found = {}
        for queue in queues:
            try:
                self.channel = self.channel or self.connection.channel()
                found[queue] = self.channel.queue_declare(queue=queue, passive=True).message_count
            except Exception:  # the queue was deleted, or the connection dropped: try again next time
                self.channel = None
        return found

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.connection.release()


# --------------------------------------------------------------------------- watching processes


class Processes:
    """RSS and CPU of each service's process tree (its sandbox children included), of this
    benchmark's clients, of this database's PostgreSQL backends and of RabbitMQ."""

    def __init__(self, roots: dict[str, int], db_url: str):
        self.roots = {name: psutil.Process(pid) for name, pid in roots.items()}
        self.db_url = db_url
        self.known: dict[int, psutil.Process] = {}
        self.rabbit = next((p for p in psutil.process_iter(["name"]) if p.info["name"] == "beam.smp"), None)
        self.cpu_before: dict[str, float] = {}

    def everything_started(self) -> list[psutil.Process]:
        found = []
        for root in self.roots.values():
            with contextlib.suppress(psutil.Error):
                found += [root, *root.children(recursive=True)]
        return found

    def _tree(self, root: psutil.Process) -> list[psutil.Process]:
        with contextlib.suppress(psutil.Error):
            return [root, *root.children(recursive=True)]
        return []

    def _cached(self, process: psutil.Process) -> psutil.Process:
        return self.known.setdefault(process.pid, process)

    def _measure(self, processes: list[psutil.Process]) -> tuple[float, float]:
        rss = cpu = 0.0
        for process in processes:
            with contextlib.suppress(psutil.Error):
                process = self._cached(process)
                rss += process.memory_info().rss
                times = process.cpu_times()
                cpu += times.user + times.system
        return rss / 2**20, cpu

    def _postgres(self, conn: psycopg.Connection) -> list[psutil.Process]:
        pids = [
            row[0]
            for row in conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        ]
        found = []
        for pid in pids:
            with contextlib.suppress(psutil.Error):
                found.append(psutil.Process(pid))
        return found

    def sample(self, conn: psycopg.Connection, seconds: float) -> tuple[dict[str, float], dict[str, float]]:
        """(RSS MiB, CPU % of one core over the last `seconds`) by name."""
        groups = {name: self._tree(root) for name, root in self.roots.items()}
        groups["postgres (this db)"] = self._postgres(conn)
        if self.rabbit is not None:
            groups["rabbitmq (shared)"] = [self.rabbit]
        rss, cpu = {}, {}
        for name, processes in groups.items():
            processes = [process for process in processes if _alive(process)]
            if not processes and name != "postgres (this db)":
                continue  # a client that has finished (the feeder between steps)
            memory, seconds_used = self._measure(processes)
            before = self.cpu_before.get(name)
            self.cpu_before[name] = seconds_used
            if name == "postgres (this db)":
                memory = 0.0  # shared buffers counted in every backend: not this run's to judge
            rss[name] = memory
            cpu[name] = 0.0 if before is None else max(0.0, 100 * (seconds_used - before) / seconds)
        return rss, cpu


def _alive(process: psutil.Process) -> bool:
    with contextlib.suppress(psutil.Error):
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    return False


def is_service(name: str) -> bool:
    """One of the system's own processes (not this benchmark's clients, not the shared servers)."""
    return not name.startswith(("bench:", "rabbitmq", "postgres"))


def _scaled(seconds: float | None) -> float | None:
    return None if seconds is None else 1000 * seconds


def database_facts(conn: psycopg.Connection) -> dict:
    """Outbox backlogs, open tasks, cases by status and notify's deliveries due, from the database."""
    outbox = {}
    for schema in OUTBOXES:
        outbox[schema] = conn.execute(
            f"SELECT count(*) FROM {schema}.outbox WHERE published_at IS NULL"
        ).fetchone()[0]
    open_tasks = conn.execute(
        "SELECT count(*) FROM routing.tasks WHERE state IN ('open', 'claimed')"
    ).fetchone()[0]
    cases = dict(conn.execute("SELECT status, count(*) FROM routing.cases GROUP BY status").fetchall())
    due = conn.execute(
        "SELECT count(*) FROM notify.deliveries WHERE state IN ('pending', 'sending')"
    ).fetchone()[0]
    return {"outbox": outbox, "open_tasks": open_tasks, "cases": cases, "notify_due": due}
