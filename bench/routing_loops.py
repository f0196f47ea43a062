"""bench/routing.py (d) and --diagnose: one case looped N times in-process, ms per step split into
engine restore, action, dump and the rest; and where a service step's time goes, statement by statement.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from psycopg import sql

from bench.routing_support import DAY_POLICY, FLOOR_DATA, FLOOR_SUPERVISOR, MALL, complaint_envelope
from services.common.bus.envelope import Envelope
from services.common.clock import MovableClock
from services.common.settings import Policy, Settings
from services.routing.bootstrap import bootstrap
from services.routing.domain.commands import CompleteTask
from services.routing.engine import Engine
from services.routing.engine.sandbox import Sandbox
from services.routing.service_layer import handlers

# --------------------------------------------------------------------------- (d) looping cases


@dataclass
class LoopRow:
    reopened: int
    steps: int = 0
    step_ms: float | None = None  # mean over the loop's steps (complete x3, timer), all cases
    restore_ms: float | None = None
    action_ms: float | None = None
    query_ms: float | None = None
    dump_ms: float | None = None
    sandbox_ms: float | None = None  # the step in a sandbox process: restore, act, dump, round trip
    rest_ms: float | None = None  # SQL, JSON, task mirroring, events, commit
    state_json_bytes: int = 0  # routing.cases.state as JSON text, after the loop (at handle_ops again)
    state_stored_bytes: int = 0  # as PostgreSQL stores it (TOAST-compressed)
    state_tasks: int | None = None  # tasks in the serialized tree, when the state has a "tasks" map


class EngineTimer:
    """Wraps the engine's methods on one Engine instance to time them, in four buckets.

    restore: stored state -> workflow; action: create / complete / advance / deliver_message;
    query: ready_tasks / next_due / current_elements / is_completed / data; dump: workflow -> state;
    sandbox: a whole step (restore, act, dump) in a sandbox process, round trip included.
    """

    def __init__(self, engine: Engine, sandbox: Sandbox | None = None):
        self.totals = {"restore": 0.0, "action": 0.0, "query": 0.0, "dump": 0.0, "sandbox": 0.0}
        self.last_tasks: int | None = None
        self._depth = threading.local()
        for name, bucket in (
            ("restore", "restore"),
            ("dump", "dump"),
            ("create", "action"),
            ("complete", "action"),
            ("advance", "action"),
            ("deliver_message", "action"),
            ("ready_tasks", "query"),
            ("next_due", "query"),
            ("current_elements", "query"),
            ("is_completed", "query"),
            ("data", "query"),
        ):
            method = getattr(engine, name, None)
            if method is not None:
                setattr(engine, name, self._wrap(method, bucket, name == "dump"))
        if sandbox is not None:
            sandbox.run = self._wrap(sandbox.run, "sandbox", False)

    def _wrap(self, method, bucket: str, is_dump: bool):
        def timed(*args, **kwargs):
            depth = getattr(self._depth, "value", 0)
            self._depth.value = depth + 1
            began = time.perf_counter()
            try:
                out = method(*args, **kwargs)
            finally:
                self._depth.value = depth
            if depth == 0:
                self.totals[bucket] += time.perf_counter() - began
            if is_dump and isinstance(out, dict) and isinstance(out.get("tasks"), dict):
                self.last_tasks = len(out["tasks"])
            return out

        return timed

    def take(self) -> dict[str, float]:
        taken = dict(self.totals)
        self.totals = dict.fromkeys(self.totals, 0.0)
        return taken


def bench_loops(db_url: str, secret: str, loops: list[int], cases: int) -> list[LoopRow]:
    clock = MovableClock(datetime.now(UTC))
    settings = Settings(
        database_url=db_url,
        auth_secret=secret,
        mall_id=MALL,
        db_pool_min=1,
        db_pool_max=2,
        log_level="WARNING",
    )
    routing = bootstrap(settings, clock=clock)
    routing.pool.open(wait=True, timeout=30)
    timer = EngineTimer(routing.context.engine, routing.context.sandbox)
    with routing.uow() as uow:  # start the sandbox processes before anything is timed
        version_id = uow.processes.newest(MALL).id
        routing.context.sandbox.prepare(routing.context.diagrams.source(version_id, uow.processes.get))
    scheduler = routing.scheduler()
    policy = Policy(handler_acts_within=timedelta(days=30), callback_from=timedelta(minutes=1))
    wait = timedelta(seconds=policy.as_workflow_data()["callback_from_seconds"] + 1)
    most = max(loops)
    samples: dict[int, list[tuple[float, dict[str, float]]]] = {n: [] for n in range(most + 1)}
    sizes: dict[int, list[tuple[int, int, int | None]]] = {n: [] for n in range(most + 1)}

    def open_task(case_id: str) -> tuple[str, str]:
        with routing.uow() as uow:
            [task] = uow.tasks.open_for_case(case_id)
            return task.id, task.element_id

    def step(loop: int, action: Callable[[], Any]) -> None:
        timer.take()
        began = time.perf_counter()
        action()
        samples[loop].append((time.perf_counter() - began, timer.take()))

    def complete(loop: int, case_id: str, element: str, data: dict[str, Any], role: str) -> None:
        task_id, found = open_task(case_id)
        assert found == element, (found, element)
        command = CompleteTask(task_id, data, "bench", frozenset({role}))
        step(loop, lambda: routing.bus.handle(command))

    def fire(loop: int) -> None:
        clock.advance(wait)
        fired: list[int] = []
        step(loop, lambda: fired.append(scheduler.tick()))
        assert fired == [1], fired

    try:
        for n in range(cases):
            envelope = complaint_envelope(f"BR-loop-{n:03d}", policy.as_workflow_data())
            handlers.start_case(envelope, routing.uow(), routing.context)
            case_id = envelope.complaint_id
            for loop in range(most + 1):
                if loop == 0:
                    complete(loop, case_id, "handle_floor", FLOOR_DATA, "floor_supervisor")
                else:
                    complete(
                        loop, case_id, "handle_ops", {"resolution": f"第{loop}次处理"}, "operations_manager"
                    )
                complete(loop, case_id, "reply", {"reply_text": "已为您处理"}, "service_desk")
                fire(loop)
                complete(loop, case_id, "callback", {"satisfied": False}, "service_desk")
                with routing.uow() as uow:
                    row = uow.conn.execute(
                        "SELECT octet_length(state::text) AS text, pg_column_size(state) AS stored,"
                        " (SELECT count(*) FROM json_object_keys(state->'tasks')) AS tasks"
                        " FROM routing.cases WHERE id = %s",
                        (case_id,),
                    ).fetchone()
                sizes[loop].append((row["text"], row["stored"], row["tasks"]))
    finally:
        routing.pool.close()

    rows = []
    for loop in sorted({0, *loops}):
        taken = samples[loop]
        row = LoopRow(loop, steps=len(taken))
        row.step_ms = _ms_mean([total for total, _ in taken])
        row.restore_ms = _ms_mean([parts["restore"] for _, parts in taken])
        row.action_ms = _ms_mean([parts["action"] for _, parts in taken])
        row.query_ms = _ms_mean([parts["query"] for _, parts in taken])
        row.dump_ms = _ms_mean([parts["dump"] for _, parts in taken])
        row.sandbox_ms = _ms_mean([parts["sandbox"] for _, parts in taken])
        row.rest_ms = _ms_mean([total - sum(parts.values()) for total, parts in taken])
        text, stored, tasks = sizes[loop][-1]
        row.state_json_bytes, row.state_stored_bytes, row.state_tasks = text, stored, tasks
        rows.append(row)
    return rows


def _ms_mean(values: list[float]) -> float | None:
    return 1000 * sum(values) / len(values) if values else None


# --------------------------------------------------------------------------- --diagnose


@dataclass
class Breakdown:
    """Where one serial step's wall time goes: per SQL statement, engine phase, the rest."""

    what: str
    count: int
    ms_per_op: float
    parts: list[tuple[str, float, float]]  # (label, ms per op, calls per op)


class StatementTimer:
    """Times every Connection.execute and commit of this process while on (psycopg patched in place)."""

    def __init__(self):
        self.on = False
        self.stats: dict[str, list[float]] = {}
        self._execute = psycopg.Connection.execute
        self._commit_exit = psycopg.Transaction.__exit__
        timer = self

        def execute(conn, query, params=None, **kwargs):
            began = time.perf_counter()
            try:
                return timer._execute(conn, query, params, **kwargs)
            finally:
                if timer.on:
                    text = query.as_string(conn) if isinstance(query, sql.Composable) else str(query)
                    label = " ".join(text.split()[:5])[:60] or "(empty: the pool's connection check)"
                    timer.add("SQL " + label, time.perf_counter() - began)

        def commit(transaction, *args):
            began = time.perf_counter()
            try:
                return timer._commit_exit(transaction, *args)
            finally:
                if timer.on:
                    timer.add("SQL COMMIT (transaction end)", time.perf_counter() - began)

        psycopg.Connection.execute = execute
        psycopg.Transaction.__exit__ = commit

    def add(self, label: str, seconds: float) -> None:
        entry = self.stats.setdefault(label, [0, 0.0])
        entry[0] += 1
        entry[1] += seconds

    def restore(self) -> None:
        psycopg.Connection.execute = self._execute
        psycopg.Transaction.__exit__ = self._commit_exit


def diagnose(db_url: str, secret: str, count: int) -> list[Breakdown]:
    """start_case and complete_task in this process, one at a time, as the consumer runs them."""
    settings = Settings(
        database_url=db_url,
        auth_secret=secret,
        mall_id=MALL,
        db_pool_min=1,
        db_pool_max=1,
        log_level="WARNING",
    )
    routing = bootstrap(settings)
    routing.pool.open(wait=True, timeout=30)
    engine_timer = EngineTimer(routing.context.engine, routing.context.sandbox)
    statements = StatementTimer()
    out = []
    try:
        envelopes = [
            complaint_envelope(f"BR-diag-{n:05d}", DAY_POLICY.as_workflow_data()) for n in range(count + 20)
        ]

        def start(envelope: Envelope) -> None:
            handlers.start_case(envelope, routing.uow(), routing.context)

        def complete(task_id: str) -> None:
            command = CompleteTask(task_id, FLOOR_DATA, "bench-floor", FLOOR_SUPERVISOR)
            routing.bus.handle(command)

        def open_floor_tasks() -> list[str]:
            with routing.uow() as uow:
                rows = uow.conn.execute(
                    "SELECT id FROM routing.tasks WHERE element_id = 'handle_floor' AND state = 'open'"
                    " ORDER BY created_at"
                ).fetchall()
            return [str(row["id"]) for row in rows]

        for envelope in envelopes[:20]:  # warm-up
            start(envelope)
        for task_id in open_floor_tasks()[:10]:
            complete(task_id)
        for what, items, action in (
            ("start_case", lambda: envelopes[20:], start),
            ("complete_task", lambda: open_floor_tasks()[:count], complete),
        ):
            todo = items()
            statements.stats.clear()
            engine_timer.take()
            statements.on = True
            began = time.perf_counter()
            for item in todo:
                action(item)
            elapsed = time.perf_counter() - began
            statements.on = False
            n = len(todo)
            parts = [
                (label, 1000 * seconds / n, calls / n) for label, (calls, seconds) in statements.stats.items()
            ]
            parts += [
                (f"engine {name}", 1000 * seconds / n, 0.0) for name, seconds in engine_timer.take().items()
            ]
            known = sum(ms for _, ms, _ in parts)
            parts.sort(key=lambda part: -part[1])
            parts.append(
                (
                    "the rest: Python in handlers, envelopes (marshmallow), json",
                    1000 * elapsed / n - known,
                    0.0,
                )
            )
            out.append(Breakdown(what, n, 1000 * elapsed / n, parts))
    finally:
        statements.restore()
        routing.pool.close()
    return out
