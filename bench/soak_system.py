"""The system bench/soak.py drives: scaled workers, the books of every complaint sent, the feeder,
the staff and the department's system as processes of their own, and the audit after the drain.
"""

from __future__ import annotations

import contextlib
import dataclasses
import multiprocessing
import os
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from queue import Empty

import psutil
import psycopg

from bench import soak_clients
from bench.common import Servers, _machine_busy, _percentile
from bench.soak_results import line
from bench.soak_verdicts import percentiles
from bench.soak_watch import Processes, QueueDepths, _scaled, database_facts
from services.routing.domain.model import QUEUES
from tests.support.deployment import Deployment

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


# --------------------------------------------------------------------------- the audit


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
