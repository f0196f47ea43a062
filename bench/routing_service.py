"""bench/routing.py (b) and (e): routing's workers from RabbitMQ to PostgreSQL: case starts, task
completions through the service layer, and the timer lag on the real clock.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import threading
import time
import traceback
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import psycopg

from bench.common import _percentile, _processes, with_descendants
from bench.routing_support import (
    DAY_POLICY,
    FLOOR_DATA,
    FLOOR_SUPERVISOR,
    MALL,
    CpuMeter,
    CpuUse,
    Publisher,
    complaint_envelope,
)
from services.common.bus.envelope import dump_envelope
from services.common.settings import Policy, Settings
from services.routing.bootstrap import bootstrap
from services.routing.domain.commands import CompleteTask

# --------------------------------------------------------------------------- (b) starts


@dataclass
class Starts:
    workers: int
    cases: int
    seconds: float = 0.0
    publish_seconds: float = 0.0
    latency_p50_ms: float | None = None  # publish -> first task (created_at), burst: queueing included
    latency_p99_ms: float | None = None
    single_p50_ms: float | None = None  # one case at a time: publish -> first task row visible
    single_p99_ms: float | None = None
    outbox_backlog: int = 0  # events not yet relayed when the last first task was committed
    missing: int = 0
    cpu: CpuUse | None = None

    @property
    def rate(self) -> float:
        return (self.cases - self.missing) / self.seconds if self.seconds else 0.0


def _count_tasks(conn: psycopg.Connection, case_ids: list[str], element: str) -> int:
    return conn.execute(
        "SELECT count(*) FROM routing.tasks WHERE element_id = %s AND case_id = ANY(%s::uuid[])",
        (element, case_ids),
    ).fetchone()[0]


def _count_all(conn: psycopg.Connection) -> int:
    """handle_floor rows of every case (a cheap poll: the table holds only this phase's cases)."""
    return conn.execute("SELECT count(*) FROM routing.tasks WHERE element_id = 'handle_floor'").fetchone()[0]


def wait_for_tasks(conn, case_ids: list[str], element: str, timeout: float, poll: float = 0.02) -> int:
    deadline = time.monotonic() + timeout
    seen = _count_tasks(conn, case_ids, element)
    while seen < len(case_ids) and time.monotonic() < deadline:
        time.sleep(poll)
        seen = _count_tasks(conn, case_ids, element)
    return seen


def bodies(count: int, tag: str, policy: dict[str, Any]) -> list[dict[str, Any]]:
    return [dump_envelope(complaint_envelope(f"BR-{tag}-{n:05d}", policy)) for n in range(count)]


def warm_up(publisher: Publisher, conn, workers: int) -> None:
    """Each worker parses the diagram and opens its connections before anything is timed."""
    batch = bodies(10 * workers, "warm", DAY_POLICY.as_workflow_data())
    for body in batch:
        publisher.publish(body)
    ids = [body["complaint_id"] for body in batch]
    if wait_for_tasks(conn, ids, "handle_floor", 60) < len(ids):
        raise RuntimeError("the warm-up cases did not reach their first task within 60 s")


def single_latency(publisher: Publisher, conn, count: int) -> list[float]:
    """Publish one case, wait for its first task row, repeat: the pipeline's latency when idle."""
    found = []
    for body in bodies(count, "single", DAY_POLICY.as_workflow_data()):
        began = time.perf_counter()
        publisher.publish(body)
        deadline = began + 10
        while time.perf_counter() < deadline:
            if _count_tasks(conn, [body["complaint_id"]], "handle_floor"):
                found.append(time.perf_counter() - began)
                break
            time.sleep(0.002)
        time.sleep(0.05)
    return found


def measure_starts(publisher: Publisher, conn, count: int, workers: int, meter: CpuMeter) -> Starts:
    result = Starts(workers, count)
    batch = bodies(count, f"w{workers}", DAY_POLICY.as_workflow_data())
    ids = [body["complaint_id"] for body in batch]
    published: dict[str, float] = {}

    def publish_all() -> None:
        for body in batch:
            publisher.publish(body)
            published[body["complaint_id"]] = time.time()

    before = _count_all(conn)
    meter.start()
    began_wall = time.time()
    began = time.perf_counter()
    thread = threading.Thread(target=publish_all, name="publisher", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30 + count / 5
    while (seen := _count_all(conn) - before) < count and time.monotonic() < deadline:
        time.sleep(0.02)
    result.seconds = time.perf_counter() - began
    result.cpu = meter.stop()
    thread.join(timeout=60)
    result.publish_seconds = max(published.values(), default=began_wall) - began_wall
    result.missing = len(ids) - seen
    result.outbox_backlog = conn.execute(
        "SELECT count(*) FROM routing.outbox WHERE published_at IS NULL"
    ).fetchone()[0]
    rows = conn.execute(
        "SELECT case_id::text AS id, extract(epoch FROM created_at) AS at FROM routing.tasks"
        " WHERE element_id = 'handle_floor' AND case_id = ANY(%s::uuid[])",
        (ids,),
    ).fetchall()
    latencies = [1000 * (float(at) - published[case]) for case, at in rows if case in published]
    result.latency_p50_ms = _percentile(latencies, 0.50)
    result.latency_p99_ms = _percentile(latencies, 0.99)
    return result


# --------------------------------------------------------------------------- (b) completions


@dataclass
class Completions:
    workers: int
    drivers: int
    threads: int
    tasks: int
    ok: int = 0
    errors: int = 0
    seconds: float = 0.0
    p50_ms: float | None = None
    p99_ms: float | None = None
    first_errors: list[str] = field(default_factory=list)
    outbox_backlog: int = 0  # events not yet relayed when the last completion was committed
    cpu: CpuUse | None = None

    @property
    def rate(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0


def _cpu_with_children() -> float:
    """CPU seconds of this process and those below it (its sandbox processes)."""
    procs = _processes()
    return sum(procs[pid][2] for pid in with_descendants({os.getpid()}, procs) if pid in procs)


def _driver(db_url: str, secret: str, task_ids: list[str], threads: int, start, finish, results) -> None:
    """One driver process: `threads` threads completing handle_floor through the service layer."""
    try:
        settings = Settings(
            database_url=db_url,
            auth_secret=secret,
            mall_id=MALL,
            db_pool_min=threads,
            db_pool_max=threads,
            log_level="WARNING",
        )
        routing = bootstrap(settings)
        routing.pool.open(wait=True, timeout=30)
        with routing.uow() as uow:  # parse the diagram and start the sandbox before the clock starts
            version_id = uow.processes.newest(MALL).id
            routing.context.diagrams.get(version_id, uow.processes.get)
            routing.context.sandbox.prepare(routing.context.diagrams.source(version_id, uow.processes.get))
    except Exception:
        results.put({"fatal": traceback.format_exc()})
        return
    results.put({"ready": True})
    start.wait()
    cpu_before = _cpu_with_children()
    counter = itertools.count()
    latencies: list[float] = []
    errors: list[str] = []

    def work() -> None:
        while (index := next(counter)) < len(task_ids):
            command = CompleteTask(task_ids[index], FLOOR_DATA, "bench-floor", FLOOR_SUPERVISOR)
            began = time.perf_counter()
            try:
                completion = routing.bus.handle(command)
                if completion.incident:
                    raise RuntimeError(completion.incident)
            except Exception as exc:
                errors.append(f"{type(exc).__name__}: {exc}")
                continue
            latencies.append(time.perf_counter() - began)

    pool = [threading.Thread(target=work, daemon=True) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    ended = time.time()
    cpu = _cpu_with_children() - cpu_before
    results.put({"latencies": latencies, "errors": errors, "ended": ended, "cpu": cpu})
    finish.wait(timeout=120)  # a backend that exits takes its CPU figures with it: close after the meter
    routing.pool.close()


def measure_completions(
    db_url: str, secret: str, conn, workers: int, threads: int, meter: CpuMeter, running: list
) -> Completions:
    task_ids = [
        row[0]
        for row in conn.execute(
            "SELECT id::text FROM routing.tasks WHERE element_id = 'handle_floor' AND state = 'open'"
            " ORDER BY created_at"
        ).fetchall()
    ]
    result = Completions(workers, workers, threads, len(task_ids))
    context = multiprocessing.get_context("spawn")
    start, finish = context.Event(), context.Event()
    results = context.Queue()
    shares = [task_ids[n::workers] for n in range(workers)]
    processes = [
        context.Process(
            # not daemonic: a driver starts sandbox processes of its own (killed at the end of the run)
            target=_driver,
            args=(db_url, secret, share, threads, start, finish, results),
            daemon=False,
        )
        for share in shares
    ]
    running.extend(processes)
    for process in processes:
        process.start()
    for _ in processes:
        message = results.get(timeout=120)
        if "fatal" in message:
            raise RuntimeError(f"a completion driver failed to start:\n{message['fatal']}")
    meter.start()
    began = time.time()
    start.set()
    reports = [results.get(timeout=60 + len(task_ids)) for _ in processes]
    ended = max(report["ended"] for report in reports)
    result.cpu = meter.stop(drivers=sum(report["cpu"] for report in reports))
    result.outbox_backlog = conn.execute(
        "SELECT count(*) FROM routing.outbox WHERE published_at IS NULL"
    ).fetchone()[0]
    finish.set()
    for process in processes:
        process.join(timeout=30)
    result.seconds = ended - began
    latencies = [x * 1000 for report in reports for x in report["latencies"]]
    errors = [x for report in reports for x in report["errors"]]
    result.ok, result.errors, result.first_errors = len(latencies), len(errors), errors[:3]
    result.p50_ms, result.p99_ms = _percentile(latencies, 0.5), _percentile(latencies, 0.99)
    return result


# --------------------------------------------------------------------------- (e) timer lag


@dataclass
class TimerLag:
    workers: int
    cases: int
    due_seconds: int
    fired: int = 0
    p50_s: float | None = None  # due time -> handle_ops row's created_at (the step's clock)
    p99_s: float | None = None
    max_s: float | None = None
    seen_p50_s: float | None = None  # due time -> this process saw the row committed (20 ms polls)
    seen_p99_s: float | None = None


def measure_timer_lag(
    publisher: Publisher, conn, workers: int, count: int, rate: float, due_seconds: int
) -> TimerLag:
    result = TimerLag(workers, count, due_seconds)
    policy = Policy(handler_acts_within=timedelta(seconds=due_seconds)).as_workflow_data()
    batch = bodies(count, f"timer{workers}", policy)
    ids = [body["complaint_id"] for body in batch]
    seen: dict[str, float] = {}
    began = time.monotonic()

    def publish_paced() -> None:  # paced, so the timers fall due spread out as in real life
        for n, body in enumerate(batch):
            time.sleep(max(0.0, began + n / rate - time.monotonic()))
            publisher.publish(body)

    thread = threading.Thread(target=publish_paced, name="publisher", daemon=True)
    thread.start()
    deadline = began + count / rate + due_seconds + 30
    while len(seen) < count and time.monotonic() < deadline:
        now = time.time()
        for (case_id,) in conn.execute(
            "SELECT case_id::text FROM routing.tasks WHERE element_id = 'handle_ops' AND case_id = ANY(%s::uuid[])",
            (ids,),
        ).fetchall():
            seen.setdefault(case_id, now)
        time.sleep(0.02)
    thread.join(timeout=30)
    rows = conn.execute(
        "SELECT f.case_id::text, extract(epoch FROM f.due_at) AS due, extract(epoch FROM o.created_at) AS at"
        " FROM routing.tasks f JOIN routing.tasks o ON o.case_id = f.case_id AND o.element_id = 'handle_ops'"
        " WHERE f.element_id = 'handle_floor' AND f.case_id = ANY(%s::uuid[]) AND f.due_at IS NOT NULL",
        (ids,),
    ).fetchall()
    lags = [float(at) - float(due) for _, due, at in rows]
    seen_lags = [seen[case] - float(due) for case, due, _ in rows if case in seen]
    result.fired = len(rows)
    result.p50_s, result.p99_s = _percentile(lags, 0.5), _percentile(lags, 0.99)
    result.max_s = max(lags, default=None)
    result.seen_p50_s, result.seen_p99_s = _percentile(seen_lags, 0.5), _percentile(seen_lags, 0.99)
    return result
