"""Soak: the whole system at a steady complaint rate for N minutes, with staff working the tasks.

    .venv/bin/python bench/soak.py                              # 10 min at 20 complaints/s
    .venv/bin/python bench/soak.py --minutes 60 --rate 100      # the target
    .venv/bin/python bench/soak.py --find-max --start-rate 10   # step the rate up until it fails

Every long-running service of deploy/compose.yaml runs as its own process, started as compose
starts it (tests/support/deployment.py), behind the gateway's nginx, on a database and a RabbitMQ
vhost of the run's own (both removed at the end, also on Ctrl+C, SIGTERM or an error; every
process started is stopped). The compose jobs run first: migrations, the diagram of bpmn/, then
the demo mall is seeded and the staff created.

Then, for --minutes: complaints are POSTed to intake through the gateway with a desk token at
--rate per second, open-loop (bench/soak_clients.py says how); --staff members of staff per role
claim and complete tasks through routing's API with valid form data, so cases move along and
close (the callback waits --callback-after seconds instead of a day); and a department's system
consumes the `tasks.<role>` queues, which gives the latency from the POST to the first task.
Every --sample seconds it prints what it measured; at the end, the summary, and where the plot
and the raw samples were written. bench/README.md says how to read it.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import dataclasses
import importlib.metadata
import json
import multiprocessing
import os
import signal
import subprocess
import sys
import time
import traceback
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from queue import Empty
from urllib.parse import quote, unquote

import psutil
import psycopg
import requests
from kombu import Connection

from bench import soak_clients
from bench.common import (
    AMQP_BASE,
    Interrupted,
    Servers,
    _machine_busy,
    _on_signal,
    _percentile,
    prepare,
    stop_all,
    vhost_queues,
    wait_idle,
)
from bench.common import machine as base_machine
from services.routing.domain.model import QUEUES
from tests.support.deployment import Deployment

ROOT = Path(__file__).resolve().parent.parent
MANAGEMENT_URL = os.environ.get("BENCH_MANAGEMENT_URL", "http://127.0.0.1:15672")
TARGET_RATE, TARGET_P99_MS = 100.0, 500.0
OUTBOXES = ("intake", "routing", "notify", "reporting")
FLAT_MIB, FLAT_SHARE = 5.0, 0.03  # RSS is flat when it grew less than this over the second half


# --------------------------------------------------------------------------- arithmetic


def slope(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of (t, y): y's change per unit of t (0 with fewer than two points)."""
    if len(points) < 2:
        return 0.0
    n = len(points)
    mean_t = sum(t for t, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    spread = sum((t - mean_t) ** 2 for t, _ in points)
    return 0.0 if spread == 0 else sum((t - mean_t) * (y - mean_y) for t, y in points) / spread


def second_half(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    if not points:
        return []
    start, end = points[0][0], points[-1][0]
    return [(t, y) for t, y in points if t >= start + (end - start) / 2]


def memory_verdict(points: list[tuple[float, float]]) -> tuple[float, float, bool]:
    """(slope MiB/min, growth MiB over the second half, flat?) of (seconds, MiB) samples."""
    half = second_half(points)
    if len(half) < 2:
        return 0.0, 0.0, True
    per_second = slope(half)
    growth = per_second * (half[-1][0] - half[0][0])
    mean = sum(y for _, y in half) / len(half)
    return per_second * 60, growth, growth < max(FLAT_MIB, FLAT_SHARE * mean)


def backlog_grows(points: list[tuple[float, float]], rate: float) -> tuple[float, bool]:
    """(slope per second, growing?) of a backlog over the second half: growing when it rose by
    more than two seconds' worth of complaints (at least 20) over that half."""
    half = second_half(points)
    if len(half) < 2:
        return 0.0, False
    per_second = slope(half)
    return per_second, per_second * (half[-1][0] - half[0][0]) > max(2 * rate, 20)


def percentiles(values: list[float]) -> dict[str, float | None]:
    return {
        "p50": _percentile(values, 0.5),
        "p90": _percentile(values, 0.9),
        "p99": _percentile(values, 0.99),
        "max": max(values) if values else None,
    }


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


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
        commit=commit(),
        load_before=" ".join(f"{x:.2f}" for x in os.getloadavg()),
    )


def commit() -> str:
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout.strip()

    head = git("rev-parse", "--short=12", "HEAD") or "?"
    return head + (
        " (with uncommitted changes)" if git("status", "--porcelain", "--untracked-files=no") else ""
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


# --------------------------------------------------------------------------- the system


STAFF_ROLES = tuple(sorted(QUEUES))
# The workers, which share their work through RabbitMQ and the database; a second HTTP API would
# need the gateway to balance over both, which it does not here.
SCALABLE = ("intake-worker", "routing-worker", "notify-worker", "reporting-worker")


def scale(deployment: Deployment, wanted: list[str]) -> list[str]:
    """Start more instances of services, as `docker compose up --scale NAME=N` runs them: the
    same command and environment, each with ports and a data folder of its own."""
    extra = []
    for item in wanted:
        name, _, count = item.partition("=")
        service = deployment.services[name]
        for n in range(2, int(count) + 1):
            copy = f"{name}-{n}"
            deployment.services[copy] = dataclasses.replace(service, name=copy)
            deployment.start(copy)
            extra.append(copy)
    return extra


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


# --------------------------------------------------------------------------- the books


@dataclass
class Books:
    """What the clients reported: every POST, the first task of each complaint, the staff's work."""

    sends: dict[int, tuple] = field(default_factory=dict)  # number -> (due, sent, answered, status, id)
    due_of: dict[str, float] = field(default_factory=dict)  # complaint id -> due
    first_task: dict[str, tuple[float, float]] = field(default_factory=dict)  # id -> (seen, occurred)
    latency: dict[str, float] = field(default_factory=dict)  # id -> ms from due to the first task seen
    engine_latency: dict[str, float] = field(default_factory=dict)  # id -> ms from due to occurred_at
    statuses: Counter = field(default_factory=Counter)
    staff: Counter = field(default_factory=Counter)
    events: Counter = field(default_factory=Counter)
    completion_seconds: list[float] = field(default_factory=list)
    window: Counter = field(default_factory=Counter)
    window_latency: list[float] = field(default_factory=list)
    window_completions: list[float] = field(default_factory=list)

    def take(self, kind: str, records: list, counts: dict) -> None:
        if kind == "feed":
            for number, due, sent, answered, status, complaint_id in records:
                self.sends[number] = (due, sent, answered, status, complaint_id)
                self.statuses[status] += 1
                self.window["accepted" if status == "201" else f"error {status}"] += 1
                if complaint_id:
                    self.due_of[complaint_id] = due
                    self._match(complaint_id)
        elif kind == "observe":
            for complaint_id, seen, occurred in records:
                occurred_at = datetime.fromisoformat(occurred).timestamp()
                self.first_task.setdefault(complaint_id, (seen, occurred_at))
                self._match(complaint_id)
            self.events.update(counts)
        elif kind == "work":
            self.staff.update(counts)
            self.window["completed"] += sum(n for key, n in counts.items() if key[0] == "completed")
            for key, n in counts.items():
                if key[0] == "error":
                    self.window[f"staff error {key[1]} {key[2]}"] += n
            self.completion_seconds += records
            self.window_completions += records

    def _match(self, complaint_id: str) -> None:
        if (
            complaint_id in self.latency
            or complaint_id not in self.due_of
            or complaint_id not in self.first_task
        ):
            return
        due = self.due_of[complaint_id]
        seen, occurred = self.first_task[complaint_id]
        self.latency[complaint_id] = 1000 * (seen - due)
        self.engine_latency[complaint_id] = 1000 * (occurred - due)
        self.window_latency.append(self.latency[complaint_id])

    def close_window(self) -> tuple[Counter, list[float], list[float]]:
        window, latency, completions = self.window, self.window_latency, self.window_completions
        self.window, self.window_latency, self.window_completions = Counter(), [], []
        return window, latency, completions

    @property
    def accepted(self) -> int:
        return len(self.due_of)

    def awaiting(self) -> int:
        return self.accepted - len(self.latency)


# --------------------------------------------------------------------------- the run


def drain(out, books: Books) -> None:
    while True:
        try:
            kind, _at, records, counts = out.get_nowait()
        except Empty:
            return
        books.take(kind, records, counts)


class Soak:
    def __init__(self, args, deployment: Deployment, servers: Servers, desk: str, staff: list, folder: Path):
        self.args, self.deployment, self.servers = args, deployment, servers
        self.desk, self.staff = desk, staff
        self.folder = folder
        self.context = multiprocessing.get_context("spawn")
        self.out = self.context.Queue()
        self.stop = self.context.Event()
        self.books = Books()
        self.samples: list[dict] = []
        self.clients: dict[str, multiprocessing.Process] = {}
        self.next_number = 0
        self.started = 0.0
        self.feed_wall = 0.0  # wall-clock time of the first complaint
        self.drain_seconds = 0.0
        self.gateway = ""

    # ---- clients

    def start_clients(self) -> None:
        amqp = self.servers.amqp_url
        self._client("observer", soak_clients.observe, (self.out, self.stop, amqp, list(STAFF_ROLES)))
        routing = f"{self.gateway}/routing"
        groups = max(1, self.args.staff_processes)
        for n in range(groups):
            mine = self.staff[n::groups]
            self._client(f"staff-{n + 1}", soak_clients.work, (self.out, self.stop, routing, mine))

    def _client(self, name: str, target, args: tuple) -> multiprocessing.Process:
        process = self.context.Process(target=target, args=args, name=name, daemon=True)
        process.start()
        self.clients[f"bench:{name}"] = process
        return process

    def feed(self, rate: float, seconds: float) -> tuple[multiprocessing.Process, range]:
        """The feeder of one phase, and the numbers of the complaints it sends."""
        first, self.next_number = self.next_number, self.next_number + int(rate * seconds)
        url = f"{self.gateway}/intake/complaints"
        args = (self.out, url, self.desk, rate, seconds, first, self.args.threads)
        self.clients.pop("bench:feeder", None)
        return self._client("feeder", soak_clients.feed, args), range(first, self.next_number)

    def stop_clients(self) -> None:
        self.stop.set()
        for process in self.clients.values():
            process.join(timeout=45)
            if process.is_alive():
                process.kill()
        drain(self.out, self.books)

    # ---- watching

    def watch(self, until, rate: float, phase: str, processes: Processes, conn, queues: list[str]) -> None:
        """Sample every --sample seconds until `until()` is true."""
        queue_depths = QueueDepths(self.servers.amqp_url)
        try:
            last, busy_before = time.monotonic(), _machine_busy()
            while True:
                time.sleep(max(0.0, self.args.sample - (time.monotonic() - last)))
                drain(self.out, self.books)
                now = time.monotonic()
                seconds, last = now - last, now
                busy = _machine_busy()
                sample = self.measure(seconds, rate, phase, processes, conn, queue_depths, queues)
                sample["machine_busy_pct"] = 100 * (busy - busy_before) / (seconds * (os.cpu_count() or 1))
                busy_before = busy
                self.samples.append(sample)
                print(line(sample), flush=True)
                if until():
                    return
        finally:
            queue_depths.close()

    def measure(
        self, seconds, rate, phase, processes: Processes, conn, queue_depths: QueueDepths, queues
    ) -> dict:
        window, latency, completions = self.books.close_window()
        roots = {
            **{name: p.pid for name, p in self.deployment.processes.items()},
            **{name: p.pid for name, p in self.clients.items() if p.is_alive()},
        }
        for name, pid in roots.items():
            if name not in processes.roots or processes.roots[name].pid != pid:  # a new feeder per step
                with contextlib.suppress(psutil.Error):
                    processes.roots[name] = psutil.Process(pid)
        rss, cpu = processes.sample(conn, seconds)
        depths = queue_depths.depths(queues)
        stats = percentiles(latency)
        return {
            "t": round(time.monotonic() - self.started, 1),
            "phase": phase,
            "seconds": round(seconds, 2),
            "rate": rate,
            "accepted_per_s": window["accepted"] / seconds,
            "errors": {key: n for key, n in window.items() if "error" in key},
            "tasks_completed_per_s": window["completed"] / seconds,
            "complete_p50_ms": _scaled(_percentile(completions, 0.5)),
            "complete_p99_ms": _scaled(_percentile(completions, 0.99)),
            "first_task_p50_ms": stats["p50"],
            "first_task_p99_ms": stats["p99"],
            "first_tasks": len(latency),
            "awaiting_first_task": self.books.awaiting(),
            **database_facts(conn),
            "queues": depths,
            "rss_mib": rss,
            "cpu_pct": cpu,
        }

    def backlog(self, sample: dict) -> float:
        return (
            sample["awaiting_first_task"]
            + sum(sample["queues"].values())
            + sum(sample["outbox"].values())
            + sample["notify_due"]
        )


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


def line(sample: dict) -> str:
    errors = sum(sample["errors"].values())
    services_rss = sum(v for k, v in sample["rss_mib"].items() if is_service(k))
    cpu = sum(sample["cpu_pct"].values())
    return (
        f"{sample['t']:6.0f}s {sample['phase']:>8} rate {sample['rate']:5.1f}/s | accepted {sample['accepted_per_s']:5.1f}/s"
        f" err {errors:3d} | tasks done {sample['tasks_completed_per_s']:5.1f}/s | first task p50"
        f" {_ms(sample['first_task_p50_ms']):>5} p99 {_ms(sample['first_task_p99_ms']):>5} ms"
        f" awaiting {sample['awaiting_first_task']:4d} | open tasks {sample['open_tasks']:5d}"
        f" closed {sample['cases'].get('completed', 0):6d} | queued {sum(sample['queues'].values()):5d}"
        f" outbox {sum(sample['outbox'].values()):4d} notify {sample['notify_due']:4d} | services"
        f" {services_rss:6.0f} MiB | cpu {cpu:4.0f}% machine {sample['machine_busy_pct']:3.0f}%"
    )


# --------------------------------------------------------------------------- the report


def audit(conn: psycopg.Connection, books: Books, queues: dict[str, int]) -> dict:
    """The books after the run: every accepted complaint in intake and routing, nothing dead."""
    accepted = set(books.due_of)
    in_intake = {str(row[0]) for row in conn.execute("SELECT id FROM intake.complaints")}
    in_routing = {str(row[0]): row[1] for row in conn.execute("SELECT id, status FROM routing.cases")}
    tasks = conn.execute(
        "SELECT queue, element_id, count(*) FROM routing.tasks WHERE state IN ('open', 'claimed')"
        " GROUP BY 1, 2 ORDER BY 3 DESC"
    ).fetchall()
    incidents = conn.execute("SELECT count(*) FROM routing.incidents WHERE resolved_at IS NULL").fetchone()[0]
    reporting = conn.execute("SELECT count(*) FROM reporting.cases").fetchone()[0]
    deliveries = dict(conn.execute("SELECT state, count(*) FROM notify.deliveries GROUP BY state").fetchall())
    return {
        "accepted": len(accepted),
        "missing_in_intake": len(accepted - set(in_intake)),
        "missing_in_routing": len(accepted - set(in_routing)),
        "without_first_task": books.awaiting(),
        "cases": dict(Counter(in_routing.values())),
        "open_tasks": {f"{queue}/{element}": n for queue, element, n in tasks},
        "open_incidents": incidents,
        "reporting_cases": reporting,
        "deliveries": deliveries,
        "dead_letters": {name: n for name, n in queues.items() if name.endswith(".dead") and n},
    }


def summary(soak: Soak, phases: list[dict], facts: dict, audited: dict, verdicts: list[dict]) -> dict:
    books, samples = soak.books, soak.samples
    feeding = [s for s in samples if s["phase"] != "drain"]
    seconds = sum(p["seconds"] for p in phases)
    latencies = list(books.latency.values())
    late_half = [
        books.latency[cid]
        for cid, due in books.due_of.items()
        if cid in books.latency and due >= soak.feed_wall + seconds / 2
    ]
    memory = {}
    for name in feeding[-1]["rss_mib"] if feeding else []:
        points = [(s["t"], s["rss_mib"].get(name, 0.0)) for s in feeding if name in s["rss_mib"]]
        per_minute, growth, flat = memory_verdict(points)
        cpu = [s["cpu_pct"].get(name, 0.0) for s in feeding[1:]]
        memory[name] = {
            "start_mib": points[0][1],
            "end_mib": points[-1][1],
            "max_mib": max(y for _, y in points),
            "slope_mib_per_min": per_minute,
            "growth_second_half_mib": growth,
            "flat": flat,
            "cpu_mean_pct": sum(cpu) / len(cpu) if cpu else 0.0,
        }
    completed = sum(n for key, n in books.staff.items() if key[0] == "completed")
    # CPU per complaint, while feeding and draining: what caps the rate on this machine's cores
    cpu_ms = {
        name: 10
        * sum(s["cpu_pct"].get(name, 0.0) * s["seconds"] for s in samples[1:])
        / max(1, books.accepted)
        for name in memory
    }
    return {
        "machine": facts,
        "settings": {key: value for key, value in vars(soak.args).items()},
        "phases": phases,
        "feeding_seconds": seconds,
        "complaints_sent": len(books.sends),
        "complaints_accepted": books.accepted,
        "accepted_per_s": books.accepted / seconds if seconds else 0.0,
        "statuses": dict(books.statuses),
        "tasks_completed": completed,
        "tasks_completed_per_s": completed / (seconds + soak.drain_seconds) if seconds else 0.0,
        "completed_by_element": {key[1]: n for key, n in books.staff.items() if key[0] == "completed"},
        "staff_conflicts": {key[1]: n for key, n in books.staff.items() if key[0] == "conflict"},
        "staff_errors": {f"{key[1]} {key[2]}": n for key, n in books.staff.items() if key[0] == "error"},
        "task_events": {key[1]: n for key, n in books.events.items()},
        "first_task_ms": percentiles(latencies),
        "first_task_ms_second_half": percentiles(late_half),
        "first_task_created_ms": percentiles(list(books.engine_latency.values())),
        "complete_ms": {k: _scaled(v) for k, v in percentiles(books.completion_seconds).items()},
        "send_lag_ms": percentiles([1000 * (sent - due) for due, sent, *_ in books.sends.values()]),
        "memory": memory,
        "cpu_ms_per_complaint": cpu_ms,
        "memory_flat": all(item["flat"] for name, item in memory.items() if is_service(name)),
        "audit": audited,
        "steps": verdicts,
    }


def print_summary(result: dict) -> None:
    print("\n=== soak summary ===")
    for key, value in result["machine"].items():
        print(f"  {key:12} {value}")
    print(
        f"  fed {result['feeding_seconds']:.0f} s: {result['complaints_sent']} sent, {result['complaints_accepted']}"
        f" accepted = {result['accepted_per_s']:.1f} complaints/s; statuses {result['statuses']}"
    )
    print(
        f"  tasks completed {result['tasks_completed']} = {result['tasks_completed_per_s']:.1f}/s"
        f" (feeding and draining); by element {result['completed_by_element']}"
    )
    print(f"  staff conflicts {result['staff_conflicts']}  staff errors {result['staff_errors'] or 'none'}")
    for label, key in (
        ("POST -> first task seen on tasks.<role>", "first_task_ms"),
        ("  the same, complaints of the second half", "first_task_ms_second_half"),
        ("POST -> first task created (envelope occurred_at)", "first_task_created_ms"),
        ("task complete request", "complete_ms"),
        ("send lag behind schedule", "send_lag_ms"),
    ):
        stats = result[key]
        print(
            f"  {label:52} p50 {_ms(stats['p50']):>6}  p90 {_ms(stats['p90']):>6}  p99 {_ms(stats['p99']):>6}"
            f"  max {_ms(stats['max']):>6} ms"
        )
    print("  memory and CPU by process (RSS MiB; slope over the second half of feeding):")
    for name, item in result["memory"].items():
        verdict = "flat" if item["flat"] else "GROWING"
        print(
            f"    {name:20} rss {item['start_mib']:7.1f} -> {item['end_mib']:7.1f} (max {item['max_mib']:7.1f})"
            f"  slope {item['slope_mib_per_min']:+6.2f} MiB/min  {verdict:7}  cpu {item['cpu_mean_pct']:5.1f}%"
        )
    print(f"  memory flat (services): {'yes' if result['memory_flat'] else 'NO'}")
    cpu = result["cpu_ms_per_complaint"]
    services = sum(ms for name, ms in cpu.items() if is_service(name))
    shown = ", ".join(
        f"{name} {ms:.0f}" for name, ms in sorted(cpu.items(), key=lambda item: -item[1]) if ms >= 1
    )
    print(
        f"  CPU ms per accepted complaint: services {services:.0f} + postgres"
        f" {cpu.get('postgres (this db)', 0):.0f} ({shown})"
    )
    print("  audit:")
    for key, value in result["audit"].items():
        print(f"    {key:20} {value}")
    for step in result["steps"]:
        print(
            f"  {step['rate']:6.1f}/s: accepted {step['accepted_per_s']:6.1f}/s, p99 {_ms(step['p99_ms'])} ms"
            f" (second half; whole step {_ms(step['p99_ms_whole_step'])} ms),"
            f" backlog slope {step['backlog_slope']:+.2f}/s, open tasks slope {step['open_tasks_slope']:+.2f}/s"
            f" -> {'sustained' if step['sustained'] else 'NOT sustained'} ({step['why']})"
        )


def judge(soak: Soak, phase: dict, verdicts: list[dict]) -> dict:
    numbers = range(phase["first"], phase["first"] + phase["count"])
    verdict = step_verdict(soak, phase["rate"], f"{phase['rate']:g}/s", numbers, phase["seconds"])
    verdicts.append(verdict)
    print(
        f"    {phase['rate']:g}/s: {'sustained' if verdict['sustained'] else 'NOT sustained'}: {verdict['why']}"
    )
    return verdict


def step_verdict(soak: Soak, rate: float, phase: str, numbers: range, seconds: float) -> dict:
    """Whether a --find-max step was sustained. The latency is judged on the complaints of the
    step's second half, the steady state: the first seconds of a step (and of the system) warm up."""
    samples = [s for s in soak.samples if s["phase"] == phase]
    ids = [soak.books.sends[n][4] for n in numbers if n in soak.books.sends]
    accepted_ids = [cid for cid in ids if cid]
    late = set(accepted_ids[len(accepted_ids) // 2 :])
    seen = [soak.books.latency[cid] for cid in late if cid in soak.books.latency]
    missing = len(late) - len(seen)
    p99 = _percentile(seen, 0.99) if missing <= 0.01 * max(1, len(late)) else None
    everything = [soak.books.latency[cid] for cid in accepted_ids if cid in soak.books.latency]
    accepted = len(accepted_ids) / seconds
    backlog_slope, growing = backlog_grows([(s["t"], soak.backlog(s)) for s in samples], rate)
    open_slope, open_growing = backlog_grows([(s["t"], s["open_tasks"]) for s in samples], rate)
    why = []
    if accepted < 0.95 * rate:
        why.append(f"accepted {accepted:.1f}/s < 95% of the rate")
    if p99 is None:
        why.append(f"{missing} complaints without a first task")
    elif p99 >= soak.args.p99_ms:
        why.append(f"p99 {p99:.0f} ms >= {soak.args.p99_ms:.0f}")
    if growing:
        why.append("backlog growing")
    if open_growing:
        why.append("open tasks growing")
    return {
        "rate": rate,
        "accepted_per_s": accepted,
        "p99_ms": p99,
        "p99_ms_whole_step": _percentile(everything, 0.99),
        "backlog_slope": backlog_slope,
        "open_tasks_slope": open_slope,
        "sustained": not why,
        "why": "; ".join(why) or "all criteria met",
    }


def plot(samples: list[dict], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    t = [s["t"] for s in samples]
    figure, (rates, latency, depth, memory) = pyplot.subplots(4, 1, figsize=(12, 15), sharex=True)
    for axes in (depth, memory):  # more lines than the default ten colours
        axes.set_prop_cycle(color=[pyplot.get_cmap("tab20")(n) for n in range(20)])
    figure.suptitle(title, fontsize=10)
    rates.plot(t, [s["rate"] for s in samples], "k--", label="target complaints/s")
    rates.plot(t, [s["accepted_per_s"] for s in samples], label="complaints accepted/s")
    rates.plot(t, [s["tasks_completed_per_s"] for s in samples], label="tasks completed/s")
    rates.plot(t, [sum(s["errors"].values()) for s in samples], label="errors per sample")
    rates.set_ylabel("per second")
    latency.plot(t, [s["first_task_p50_ms"] for s in samples], label="POST -> first task p50")
    latency.plot(t, [s["first_task_p99_ms"] for s in samples], label="POST -> first task p99")
    latency.axhline(TARGET_P99_MS, color="r", linestyle=":", label="p99 target")
    latency.set_ylabel("ms")
    latency.set_ylim(bottom=0)
    busiest = sorted(
        {q for s in samples for q in s["queues"]}, key=lambda q: -max(s["queues"].get(q, 0) for s in samples)
    )
    busiest = [name for name in busiest if any(s["queues"].get(name) for s in samples)]
    for queue in busiest[:8]:
        depth.plot(t, [s["queues"].get(queue, 0) for s in samples], label=f"queue {queue}")
    for schema in OUTBOXES:
        depth.plot(t, [s["outbox"][schema] for s in samples], linestyle="--", label=f"outbox {schema}")
    depth.plot(t, [s["awaiting_first_task"] for s in samples], "k:", label="awaiting first task")
    depth.plot(t, [s["open_tasks"] for s in samples], "k-.", label="open tasks")
    depth.plot(t, [s["notify_due"] for s in samples], linestyle=":", label="notify deliveries due")
    depth.set_ylabel("messages / rows")
    for name in samples[-1]["rss_mib"]:
        if is_service(name) or name == "rabbitmq (shared)":
            memory.plot(t, [s["rss_mib"].get(name) for s in samples], label=name)
    memory.set_ylabel("RSS MiB")
    memory.set_xlabel("seconds since the first complaint")
    for axes in (rates, latency, depth, memory):
        axes.grid(alpha=0.3)
        axes.legend(fontsize=7, loc="upper left", ncol=3)
    figure.tight_layout()
    figure.savefig(path, dpi=90)
    pyplot.close(figure)


def write_raw(folder: Path, soak: Soak, result: dict) -> None:
    (folder / "summary.json").write_text(json.dumps(result, indent=2, default=str), encoding="utf-8")
    (folder / "samples.json").write_text(json.dumps(soak.samples, default=str), encoding="utf-8")
    with (folder / "complaints.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            [
                "number",
                "due",
                "sent",
                "answered",
                "status",
                "complaint_id",
                "first_task_seen",
                "first_task_created",
                "first_task_ms",
            ]
        )
        for number, (due, sent, answered, status, complaint_id) in sorted(soak.books.sends.items()):
            seen, created = soak.books.first_task.get(complaint_id, (None, None))
            writer.writerow(
                [
                    number,
                    f"{due:.4f}",
                    f"{sent:.4f}",
                    f"{answered:.4f}",
                    status,
                    complaint_id,
                    seen and f"{seen:.4f}",
                    created and f"{created:.4f}",
                    _ms(soak.books.latency.get(complaint_id)),
                ]
            )


# --------------------------------------------------------------------------- main


def phases_of(args) -> list[tuple[float, float]]:
    if not args.find_max:
        return [(args.rate, args.minutes * 60)]
    rates, rate = [], args.start_rate
    while rate <= args.max_rate + 1e-9:
        rates.append(round(rate, 1))
        rate = rate * args.step_factor
    return [(rate, args.step_minutes * 60) for rate in rates]


def run(args) -> int:
    folder = Path(
        args.out or ROOT / ".data" / "soak" / datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    ).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    servers = Servers()
    deployment = None
    started: list[psutil.Process] = []
    try:
        print(f"creating database and vhost {servers.name} ...", flush=True)
        servers.create()
        facts = machine(servers.db_url)
        settings = {
            "NOTIFY_QUIET_HOURS": "none",
            "POLICY_CALLBACK_FROM_HOURS": str(args.callback_after / 3600),
        }
        deployment = Deployment(folder / "logs", servers.db_url, servers.amqp_url, **settings)
        (folder / "logs").mkdir(exist_ok=True)
        phases = phases_of(args)
        hours = sum(seconds for _, seconds in phases) / 3600 + 2
        print(
            f"migrating, deploying bpmn/, seeding, creating {len(STAFF_ROLES) * args.staff + 1} users ...",
            flush=True,
        )
        desk, staff = prepare(deployment, args.staff, hours)
        print("starting every long-running service and the gateway ...", flush=True)
        deployment.start_long_running()
        for name in scale(deployment, args.scale):
            deployment.wait_ready(name)
        soak = Soak(args, deployment, servers, desk, staff, folder)
        soak.gateway = deployment.start_gateway()
        processes = Processes({name: p.pid for name, p in deployment.processes.items()}, servers.db_url)
        started = processes.everything_started()
        queues = vhost_queues(servers.name)
        print(
            f"{len(deployment.processes)} processes up; {len(queues)} queues in vhost {servers.name};"
            f" logs in {folder / 'logs'}",
            flush=True,
        )
        return soak_run(soak, phases, facts, processes, queues, folder)
    finally:
        if deployment is not None:
            with contextlib.suppress(Exception):
                started += [
                    p
                    for p in Processes(
                        {n: p.pid for n, p in deployment.processes.items() if p.poll() is None},
                        servers.db_url,
                    ).everything_started()
                ]
            stop_all(deployment, started)
        servers.remove()
        print(f"removed database and vhost {servers.name}; every process started is stopped", flush=True)


def soak_run(soak: Soak, phases, facts, processes: Processes, queues, folder: Path) -> int:
    args = soak.args
    conn = psycopg.connect(soak.servers.db_url, autocommit=True)
    if args.wait_idle:
        busy = wait_idle(args.wait_idle, announce=True)
        print(f"the machine is {busy:.0f}% busy", flush=True)
    soak.start_clients()
    time.sleep(1)  # the observer and the staff connected
    soak.started = time.monotonic()
    soak.feed_wall = time.time()
    done_phases, verdicts = [], []
    interrupted = None
    try:
        for index, (rate, seconds) in enumerate(phases):
            phase = f"{rate:g}/s"
            print(f"--- feeding {rate:g} complaints/s for {seconds:.0f} s ---", flush=True)
            start_wall = time.time()
            feeder, numbers = soak.feed(rate, seconds)
            soak.watch(lambda feeder=feeder: not feeder.is_alive(), rate, phase, processes, conn, queues)
            feeder.join()
            done_phases.append(
                {
                    "rate": rate,
                    "seconds": seconds,
                    "start_wall": start_wall,
                    "first": numbers.start,
                    "count": len(numbers),
                }
            )
            if index < len(phases) - 1:  # --find-max: let the step's last complaints arrive, then judge it
                settle(soak, processes, conn, queues, 30, rate)
                if not judge(soak, done_phases[-1], verdicts)["sustained"]:
                    break
        soak.drain_seconds = settle(soak, processes, conn, queues, args.drain, 0.0)
        if len(verdicts) < len(done_phases):
            judge(soak, done_phases[-1], verdicts)
    except (KeyboardInterrupt, Interrupted) as exc:
        interrupted = exc
        print(f"\ninterrupted ({type(exc).__name__}): reporting what was measured", flush=True)
        soak.drain_seconds = 0.0
    soak.stop_clients()
    depths = QueueDepths(soak.servers.amqp_url)
    final_queues = depths.depths(vhost_queues(soak.servers.name))
    depths.close()
    audited = audit(conn, soak.books, final_queues)
    conn.close()
    if not done_phases:
        done_phases = [
            {
                "rate": phases[0][0],
                "seconds": max(1.0, time.time() - soak.feed_wall),
                "start_wall": soak.feed_wall,
            }
        ]
    result = summary(soak, done_phases, facts, audited, verdicts)
    sustained = [step["rate"] for step in verdicts if step["sustained"]]
    if args.find_max:
        result["highest_sustained_rate"] = max(sustained) if sustained else None
    elif verdicts:
        run_verdict = verdicts[-1]
        result["target_met"] = (
            run_verdict["rate"] >= TARGET_RATE
            and run_verdict["sustained"]
            and args.p99_ms <= TARGET_P99_MS
            and result["memory_flat"]
        )
    write_raw(folder, soak, result)
    print_summary(result)
    if args.find_max:
        print(
            f"  highest rate sustained (p99 < {args.p99_ms:.0f} ms, no growing backlog):"
            f" {result['highest_sustained_rate'] or 'none of the steps'} complaints/s"
        )
    elif "target_met" in result:
        print(
            f"  target ({TARGET_RATE:g} complaints/s sustained, p99 POST -> first task < {TARGET_P99_MS:g} ms, flat"
            f" memory): {'MET' if result['target_met'] else 'missed'}"
        )
    if soak.samples:
        rates = ", ".join(f"{p['rate']:g}/s" for p in done_phases)
        title = f"soak {rates} on {facts['cpu']} x{facts['cores']}, commit {facts['commit']}, {facts['date']}"
        plot(soak.samples, folder / "soak.png", title)
        print(f"  plot: {folder / 'soak.png'}")
    print(f"  raw: {folder / 'samples.json'}, {folder / 'complaints.csv'}, {folder / 'summary.json'}")
    if interrupted is not None:
        raise interrupted
    return 0


def settle(soak: Soak, processes, conn, queues, limit: float, rate: float) -> float:
    """Keep the staff working until every complaint has its first task and the queues, outboxes
    and open tasks are down (or `limit` seconds); how long it took."""
    if limit <= 0:
        return 0.0
    print(f"--- draining (up to {limit:.0f} s) ---", flush=True)
    began = time.monotonic()

    def settled() -> bool:
        last = soak.samples[-1]
        calm = soak.backlog(last) == 0 and last["open_tasks"] <= 2 * len(soak.staff)
        return calm or time.monotonic() - began >= limit

    soak.watch(settled, rate, "drain", processes, conn, queues)
    return time.monotonic() - began


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bench/soak.py",
        description=__doc__.split("\n\n", 2)[2].strip() if __doc__ else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--minutes", type=float, default=10, help="how long to feed complaints (default 10)")
    parser.add_argument(
        "--rate", type=float, default=20, help="complaints per second, open-loop (default 20)"
    )
    parser.add_argument(
        "--staff", type=int, default=3, help="members of staff per role, each a thread (default 3)"
    )
    parser.add_argument(
        "--staff-processes", type=int, default=2, help="processes the staff threads share (default 2)"
    )
    parser.add_argument("--threads", type=int, default=64, help="threads sending the complaints (default 64)")
    parser.add_argument("--sample", type=float, default=5, help="seconds between samples (default 5)")
    parser.add_argument(
        "--drain",
        type=float,
        default=120,
        help="after feeding, seconds to let the staff finish the open cases (default 120)",
    )
    parser.add_argument(
        "--callback-after",
        type=float,
        default=0,
        help="seconds from the reply to the callback (POLICY_CALLBACK_FROM_HOURS; default 0)",
    )
    parser.add_argument(
        "--p99-ms", type=float, default=TARGET_P99_MS, help="--find-max's p99 limit (default 500)"
    )
    parser.add_argument(
        "--find-max",
        action="store_true",
        help="step the rate up from --start-rate by --step-factor, --step-minutes each, until a step"
        " misses the p99 limit, falls behind or grows a backlog; report the highest sustained",
    )
    parser.add_argument("--start-rate", type=float, default=10, help="--find-max's first rate (default 10)")
    parser.add_argument(
        "--step-factor", type=float, default=1.5, help="--find-max's rate multiplier (default 1.5)"
    )
    parser.add_argument(
        "--step-minutes", type=float, default=2, help="--find-max's minutes per step (default 2)"
    )
    parser.add_argument("--max-rate", type=float, default=400, help="--find-max's last rate (default 400)")
    parser.add_argument(
        "--scale",
        action="append",
        default=[],
        metavar="SERVICE=N",
        help="run N instances of a compose service, e.g. --scale reporting-worker=2 (repeatable)",
    )
    parser.add_argument(
        "--wait-idle",
        type=float,
        default=0,
        help="first wait up to this many seconds for the machine to be less than 15%% busy",
    )
    parser.add_argument("--out", help="folder for the plot, samples and logs (default .data/soak/<time>)")
    args = parser.parse_args(argv)
    if args.rate <= 0 or args.start_rate <= 0 or args.step_factor <= 1 or args.minutes <= 0:
        parser.error("rates and --minutes must be positive, --step-factor above 1")
    for item in args.scale:
        name, _, count = item.partition("=")
        if not count.isdigit() or int(count) < 1 or name not in SCALABLE:
            parser.error(f"--scale {item}: want SERVICE=N with N >= 1, SERVICE one of {', '.join(SCALABLE)}")
    if args.find_max and args.start_rate > args.max_rate:
        parser.error("--start-rate must not be above --max-rate")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGHUP, _on_signal)
    try:
        return run(args)
    except (KeyboardInterrupt, Interrupted):
        return 130
    except Exception:
        traceback.print_exc()
        return 1


if __name__ == "__main__":
    sys.exit(main())
