"""Routing throughput: the bare engine, the service from RabbitMQ to PostgreSQL, looping cases, timer lag.

    .venv/bin/python bench/routing.py                    # under a minute on 2 cores, plus --wait-idle
    .venv/bin/python bench/routing.py --cases 1000 --workers 1,2 --loops 1,5,20,50

(a) engine: SpiffWorkflow alone through `services.routing.engine` (parse_diagram + Engine on the
    real Clock), in memory, on tests/data/routing/complaint_v1.bpmn + triage_v1.dmn: cases/s from
    start to the first user task, and cases/s through the happy path (handle_floor resolved ->
    reply -> wait_callback fired by moving a MovableClock -> callback satisfied -> completed).
    Two reference rows show what serialization adds: the first task plus one dump, and the happy
    path restored and dumped around every step as the service does. Then the same engine on the
    diagram the mall runs, bpmn/complaint.bpmn + triage.dmn (the mall's time zone in the policy, as
    routing adds it): cases/s to the first tasks and through a merchant complaint's whole life, and
    how many times slower than on the test diagram.
(b) service: `python -m services worker routing` processes (1, then 2) on a database and a RabbitMQ
    vhost of the run's own. complaint.received envelopes (as tests/integration/routing/conftest.py
    builds them) are published to `mall.events` with publisher confirms, as the outbox relay does;
    cases/s is counted from the first publish to the moment the last case's first task row is
    committed (seen by polling routing.tasks). Then every open handle_floor task is completed through
    the service layer (`routing.handle(handlers.complete_task, CompleteTask(...))`) by as many
    driver processes as there are workers, each with --threads threads, while the workers relay
    the events. CPU per case is split between the workers, PostgreSQL, RabbitMQ and this process.
(c) the service's first-task rate as a share of the bare engine's (target >= 40%).
(d) one case looped N times (callback not satisfied -> handle_ops -> reply -> timer -> callback),
    in-process through the service layer with a MovableClock: ms per step (load + advance + save,
    one transaction, split into engine restore / engine action / engine dump / the rest: SQL, JSON,
    task mirroring, commit) and the size of routing.cases.state (JSON text and as stored).
(e) timer lag on the real clock: cases started with handler_acts_within_seconds=2 in the envelope's
    policy; the lag is from the boundary timer's due time (handle_floor's due_at) to handle_ops'
    task row (its created_at, and when this process first saw it committed). Target p99 <= 1 s.

One run creates its database (migrated with `python -m services migrate`, the diagram deployed with
`python -m services deploy`) and its vhost, and removes both at the end, also on Ctrl+C or an error;
every process it starts is stopped. Only 127.0.0.1 is used.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.metadata
import itertools
import json
import multiprocessing
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from kombu import Producer
from psycopg import sql

from bench.common import (
    Interrupted,
    _fmt,
    _machine_busy,
    _on_signal,
    _own_cpu,
    _percentile,
    _postgres_is_ours,
    _processes,
    busy_share,
    create_database,
    database_url,
    drop_database,
    postgres_facts,
    wait_idle,
    with_descendants,
)
from bench.common import machine as base_machine
from services.common.bus.connection import broker_connection
from services.common.bus.envelope import COMPLAINT_RECEIVED, Actor, Envelope, dump_envelope
from services.common.bus.topology import EVENTS_EXCHANGE
from services.common.clock import Clock, MovableClock
from services.common.settings import Policy, Settings
from services.routing.bootstrap import COMPLAINTS_QUEUE, bootstrap
from services.routing.domain.commands import CompleteTask
from services.routing.domain.model import QUEUES
from services.routing.engine import Engine, parse_diagram
from services.routing.engine.sandbox import DiagramSource, Sandbox
from services.routing.engine.step_request import Step, StepResult
from services.routing.service_layer import handlers

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
MALL = "demo"
DIAGRAMS = ROOT / "tests" / "data" / "routing"
BPMN, DMN = "complaint_v1.bpmn", "triage_v1.dmn"
TARGET_SHARE = 40.0  # service first-task cases/s as % of the bare engine's
TARGET_TIMER_P99 = 1.0  # seconds from a timer's due time to the case having advanced

# The policy of the integration tests: 24 h to act, call back 24 h after the reply.
DAY_POLICY = Policy(handler_acts_within=timedelta(hours=24), callback_from=timedelta(hours=24))
FLOOR_DATA = {"outcome": "resolved", "resolution": "道歉并换货"}
FLOOR_SUPERVISOR = frozenset({"floor_supervisor"})

# routing's tables that hold cases (process_versions, the deployed diagram, stays between phases).
CASE_TABLES = ("timeline", "incidents", "pending_messages", "tasks", "cases", "outbox", "inbox")


# --------------------------------------------------------------------------- small helpers


def _median(values: list[float]) -> float | None:
    return _percentile(values, 0.5)


def complaint_envelope(number: str, policy: dict[str, Any]) -> Envelope:
    """A complaint.received event as intake publishes it (tests/integration/routing/conftest.py)."""
    complaint_id = str(uuid.uuid4())
    payload = {
        "id": complaint_id,
        "number": number,
        "channel": "phone",
        "category": "merchant_service",
        "severity": "normal",
        "major_reasons": [],
        "status": "received",
        "customer": {"name": "王女士"},
        "received_at": "2026-11-22T02:00:00+00:00",
        "floor": "3F",
        "merchant": None,
        "department": None,
        "description": "店员态度恶劣",
        "promised_reply_date": "2026-11-25",
        "policy": policy,
    }
    return Envelope(
        type=COMPLAINT_RECEIVED,
        mall_id=MALL,
        complaint_id=complaint_id,
        actor=Actor("desk", "service_desk"),
        occurred_at=datetime.now(UTC),
        payload=payload,
    )


def workflow_data(envelope: Envelope) -> dict[str, Any]:
    """What start_case hands the engine: the complaint without its policy, and the policy."""
    complaint = {key: value for key, value in envelope.payload.items() if key != "policy"}
    return {"complaint": complaint, "policy": envelope.payload.get("policy", {})}


# --------------------------------------------------------------------------- machine


def machine() -> dict[str, str]:
    commit = "?"
    changed = ""
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        git = ["git", "-C", str(ROOT)]
        commit = (
            subprocess.run(
                [*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=10
            ).stdout.strip()
            or "?"
        )
        status = subprocess.run(
            [*git, "status", "--porcelain", "--", "services"], capture_output=True, text=True, timeout=10
        ).stdout.splitlines()
        changed = f", {len(status)} uncommitted change(s) under services/" if status else ""
    facts = base_machine(spiffworkflow=importlib.metadata.version("SpiffWorkflow"))
    return {**facts, "code": f"{commit}{changed}"}


# --------------------------------------------------------------------------- CPU accounting


RABBITMQ_NAMES = {"beam.smp", "erl_child_setup", "inet_gethost", "epmd"}


@dataclass
class CpuUse:
    """CPU seconds spent during a phase, by whom; `others` is everything not ours (and steal)."""

    seconds: float
    routing: float = 0.0  # the worker processes
    drivers: float = 0.0  # the completion drivers (reported by themselves)
    postgres: float = 0.0
    rabbitmq: float = 0.0
    bench: float = 0.0  # this process: publishing, polling
    others: float = 0.0

    def per_op_ms(self, ops: int) -> dict[str, float]:
        names = ("routing", "drivers", "postgres", "rabbitmq", "bench")
        return {name: 1000 * getattr(self, name) / ops for name in names} if ops else {}

    @property
    def others_share(self) -> float:
        return 100 * self.others / (self.seconds * (os.cpu_count() or 1))

    def describe(self, ops: int) -> str:
        per = self.per_op_ms(ops)
        if not per:
            return ""
        parts = [f"{name} {per[name]:.2f}" for name in per if getattr(self, name) > 0]
        return "CPU ms/op: " + ", ".join(parts) + f"; others {self.others_share:.0f}% of the machine"


class CpuMeter:
    def __init__(self, database: str, routing_pids: Callable[[], set[int]]):
        self.database = database
        self.routing_pids = routing_pids

    def start(self) -> None:
        self._began = time.perf_counter()
        self._busy = _machine_busy()
        self._own = _own_cpu()
        self._procs = _processes()

    def stop(self, drivers: float = 0.0) -> CpuUse:
        procs = _processes()
        use = CpuUse(seconds=time.perf_counter() - self._began, drivers=drivers)
        use.bench = _own_cpu() - self._own
        ours = with_descendants(self.routing_pids(), procs)
        for pid, (_, name, cpu) in procs.items():
            delta = cpu - self._procs.get(pid, (0, "", 0.0))[2]
            if pid in ours:
                use.routing += delta
            elif name == "postgres" and _postgres_is_ours(pid, self.database):
                use.postgres += delta
            elif name in RABBITMQ_NAMES:
                use.rabbitmq += delta
        known = use.routing + use.drivers + use.postgres + use.rabbitmq + use.bench
        use.others = max(0.0, _machine_busy() - self._busy - known)
        return use


# --------------------------------------------------------------------------- database and broker


def clear_cases(url: str) -> None:
    """Empty routing's case tables between phases; the deployed diagram stays."""
    with psycopg.connect(url, autocommit=True) as conn:
        present = {
            row[0]
            for row in conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'routing'"
            )
        }
        tables = [sql.SQL("routing.{}").format(sql.Identifier(t)) for t in CASE_TABLES if t in present]
        conn.execute(sql.SQL("TRUNCATE {}").format(sql.SQL(", ").join(tables)))
        conn.execute("VACUUM ANALYZE")


def rabbitmqctl(*args: str) -> str:
    done = subprocess.run(["rabbitmqctl", "-q", *args], capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        raise RuntimeError(
            f"rabbitmqctl {' '.join(args)} failed: {done.stderr.strip() or done.stdout.strip()}"
        )
    return done.stdout


def create_vhost(name: str) -> None:
    rabbitmqctl("add_vhost", name)
    rabbitmqctl("set_permissions", "-p", name, "guest", ".*", ".*", ".*")


def delete_vhost(name: str) -> None:
    with contextlib.suppress(RuntimeError, OSError, subprocess.SubprocessError):
        rabbitmqctl("delete_vhost", name)


def cli(env: dict[str, str], *args: str, timeout: float = 120) -> str:
    """`python -m services ...` with the run's environment; raise with its output if it fails."""
    done = subprocess.run(
        [PYTHON, "-m", "services", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )
    if done.returncode != 0:
        raise RuntimeError(f"python -m services {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout.strip()


class Publisher:
    """Publishes complaint.received as the outbox relay does: to mall.events, persistent, confirmed."""

    def __init__(self, amqp_url: str):
        self.amqp_url = amqp_url
        self._connect()

    def _connect(self) -> None:
        self.connection = broker_connection(self.amqp_url)
        self.connection.ensure_connection(max_retries=3)
        self.producer = Producer(self.connection.default_channel, exchange=EVENTS_EXCHANGE)

    def _reconnect(self) -> None:
        """A connection idle through a long phase may have been closed by the broker: open a new one."""
        with contextlib.suppress(Exception):
            self.connection.release()
        self._connect()

    def server_version(self) -> str:
        properties = getattr(self.connection.connection, "server_properties", {}) or {}
        version = properties.get("version", "?")
        return version.decode() if isinstance(version, bytes) else str(version)

    def publish(self, body: dict[str, Any]) -> None:
        try:
            self._publish(body)
        except OSError:  # reset while idle between phases; a message sent twice is one case (inbox)
            self._reconnect()
            self._publish(body)

    def _publish(self, body: dict[str, Any]) -> None:
        self.producer.publish(
            body,
            routing_key=body["type"],
            serializer="json",
            delivery_mode=2,
            message_id=body["id"],
            correlation_id=body.get("correlation_id"),
            type=body["type"],
            declare=[EVENTS_EXCHANGE],
        )

    def queue_state(self, name: str) -> tuple[int, int]:
        """(messages, consumers) of a queue; (0, 0) when it does not exist yet."""
        try:
            channel = self.connection.channel()
        except OSError:  # reset while idle (ConnectionResetError, BrokenPipeError)
            self._reconnect()
            channel = self.connection.channel()
        try:
            ok = channel.queue_declare(queue=name, passive=True)
            return ok.message_count, ok.consumer_count
        except Exception:  # the broker closes the channel: the queue is not declared yet
            return 0, 0
        finally:
            with contextlib.suppress(Exception):
                channel.close()

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.connection.release()


# --------------------------------------------------------------------------- worker processes


class Workers:
    """`python -m services worker routing` processes, each in its own session, logging to files."""

    def __init__(self, count: int, env: dict[str, str], logdir: Path):
        self.logs = [logdir / f"worker-{n}.log" for n in range(count)]
        self.processes: list[subprocess.Popen] = []
        for path in self.logs:
            with path.open("wb") as log:
                self.processes.append(
                    subprocess.Popen(
                        [PYTHON, "-m", "services", "worker", "routing"],
                        cwd=ROOT,
                        env=env,
                        stdin=subprocess.DEVNULL,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                    )
                )

    def pids(self) -> set[int]:
        return {process.pid for process in self.processes if process.poll() is None}

    def check(self) -> None:
        for process, path in zip(self.processes, self.logs, strict=True):
            if process.poll() is not None:
                raise RuntimeError(f"worker {process.pid} exited with {process.returncode}:\n{_tail(path)}")

    def problems(self) -> list[str]:
        """Error lines the workers logged."""
        found = []
        for path in self.logs:
            with contextlib.suppress(OSError):
                for line in path.read_text(errors="replace").splitlines():
                    if '"ERROR"' in line or "Traceback" in line or '"WARNING"' in line:
                        found.append(line[:300])
        return found

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=5)


def _tail(path: Path, lines: int = 20) -> str:
    with contextlib.suppress(OSError):
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    return ""


# --------------------------------------------------------------------------- (a) the bare engine


@dataclass
class EngineResult:
    first_task: float = 0.0  # cases/s, create + advance to handle_floor
    first_task_dumped: float = 0.0  # the same plus one dump of the state
    happy: float = 0.0  # cases/s through the happy path, in memory
    happy_stored: float = 0.0  # the same, restored before and dumped after every step
    first_task_sandboxed: float = 0.0  # start -> first task as one step in a sandbox process
    happy_sandboxed: float = 0.0  # the happy path, every step in a sandbox process (as the service runs it)
    state_bytes: int = 0  # JSON of the state at the first task
    shipped_first_task: float = 0.0  # cases/s to the first tasks on bpmn/complaint.bpmn
    shipped_life: float = 0.0  # cases/s through a whole life on bpmn/complaint.bpmn
    shipped_tasks: list[str] = field(default_factory=list)  # the tasks of that life, in order


def load_diagram():
    return parse_diagram(
        (DIAGRAMS / BPMN).read_bytes(), {DMN: (DIAGRAMS / DMN).read_bytes()}, set(QUEUES), BPMN
    )


def _timed_rate(count: int, body: Callable[[], None]) -> float:
    began = time.perf_counter()
    for _ in range(count):
        body()
    return count / (time.perf_counter() - began)


def bench_engine(first_cases: int, happy_cases: int) -> EngineResult:
    diagram = load_diagram()
    data = workflow_data(complaint_envelope("BENCH-ENGINE", DAY_POLICY.as_workflow_data()))
    wait = timedelta(seconds=DAY_POLICY.as_workflow_data()["callback_from_seconds"] + 1)
    real = Engine(Clock())
    clock = MovableClock(datetime.now(UTC))
    movable = Engine(clock)
    result = EngineResult()

    def first_task(dump: bool = False) -> None:
        workflow = real.create(diagram, data)
        real.advance(workflow)
        [task] = real.ready_tasks(workflow, diagram)
        assert task.info.element_id == "handle_floor", task.info.element_id
        if dump:
            result.state_bytes = len(json.dumps(real.dump(workflow)))

    def complete(workflow, element: str, values: dict[str, Any]) -> None:
        [task] = movable.ready_tasks(workflow, diagram)
        assert task.info.element_id == element, (task.info.element_id, element)
        movable.complete(workflow, task.id, values)

    def happy() -> None:
        workflow = movable.create(diagram, data)
        movable.advance(workflow)
        complete(workflow, "handle_floor", FLOOR_DATA)
        complete(workflow, "reply", {"reply_text": "已为您换货"})
        clock.advance(wait)
        movable.advance(workflow)
        complete(workflow, "callback", {"satisfied": True})
        assert movable.is_completed(workflow)

    def happy_stored() -> None:
        """As the service runs it: every step restores the stored state and dumps it again."""
        workflow = movable.create(diagram, data)
        movable.advance(workflow)
        state = movable.dump(workflow)
        for step in (
            lambda wf: complete(wf, "handle_floor", FLOOR_DATA),
            lambda wf: complete(wf, "reply", {"reply_text": "已为您换货"}),
            lambda wf: (clock.advance(wait), movable.advance(wf)),
            lambda wf: complete(wf, "callback", {"satisfied": True}),
        ):
            workflow = movable.restore(diagram, json.loads(json.dumps(state)))
            step(workflow)
            state = movable.dump(workflow)
        assert movable.is_completed(workflow)

    sandbox = Sandbox(1)
    source = DiagramSource(
        "bench", (DIAGRAMS / BPMN).read_bytes(), {DMN: (DIAGRAMS / DMN).read_bytes()}, frozenset(QUEUES), BPMN
    )

    def sandboxed(step: Step) -> StepResult:
        return sandbox.run(source, replace(step, shared_keys=frozenset({"complaint", "policy"})), clock.now())

    def first_task_sandboxed() -> None:
        [task] = sandboxed(Step(None, data)).ready
        assert task.info.element_id == "handle_floor", task.info.element_id

    def happy_sandboxed() -> None:
        result = sandboxed(Step(None, data))
        for element, values in (
            ("handle_floor", FLOOR_DATA),
            ("reply", {"reply_text": "已为您换货"}),
            ("wait_callback", None),
            ("callback", {"satisfied": True}),
        ):
            if values is None:  # the timer: the clock moves, the step fires it
                clock.advance(wait)
                result = sandboxed(Step(result.state))
                continue
            [task] = result.ready
            assert task.info.element_id == element, (task.info.element_id, element)
            result = sandboxed(Step(result.state, task_id=task.id, task_data=values))
        assert result.finished

    try:
        for _ in range(20):  # warm-up
            first_task(dump=True)
            happy()
            happy_stored()
            happy_sandboxed()
        result.first_task = _timed_rate(first_cases, first_task)
        result.first_task_dumped = _timed_rate(first_cases, lambda: first_task(dump=True))
        result.happy = _timed_rate(happy_cases, happy)
        result.happy_stored = _timed_rate(happy_cases, happy_stored)
        result.first_task_sandboxed = _timed_rate(first_cases, first_task_sandboxed)
        result.happy_sandboxed = _timed_rate(happy_cases, happy_sandboxed)
    finally:
        sandbox.close()
    return result


def bench_shipped(result: EngineResult, first_cases: int, life_cases: int) -> None:
    """The same engine on the diagram the mall runs, bpmn/complaint.bpmn + triage.dmn (157 KB, boundary
    timers and scripts the test diagram lacks), with the mall's time zone in the policy as routing
    adds it: cases/s to the first tasks, and through a whole life (a merchant complaint: every ready
    task completed with valid form data, the callback's day passed by moving the clock)."""
    from bench.soak_clients import form_data

    shipped = ROOT / "bpmn"
    diagram = parse_diagram(
        (shipped / "complaint.bpmn").read_bytes(),
        {"triage.dmn": (shipped / "triage.dmn").read_bytes()},
        set(QUEUES),
        "complaint.bpmn",
    )
    envelope = complaint_envelope(
        "BENCH-SHIPPED", {**DAY_POLICY.as_workflow_data(), "time_zone": "Asia/Shanghai"}
    )
    envelope.payload["merchant"] = {"code": "M-3F-001", "name": "型男工坊", "floor": "3F"}
    envelope.payload["customer"] = {
        "name": "王女士",
        "phone": "13900000001",
    }  # to be replied to and called back
    data = workflow_data(envelope)
    clock = MovableClock(datetime.fromisoformat(envelope.payload["received_at"]))  # before its deadlines
    engine = Engine(clock)

    def first_tasks() -> None:
        clock.set(datetime.fromisoformat(envelope.payload["received_at"]))
        workflow = engine.create(diagram, data)
        engine.advance(workflow)
        assert engine.ready_tasks(workflow, diagram)

    def life(record: bool = False) -> None:
        clock.set(datetime.fromisoformat(envelope.payload["received_at"]))
        workflow = engine.create(diagram, data)
        engine.advance(workflow)
        for _ in range(40):
            if engine.is_completed(workflow):
                return
            ready = engine.ready_tasks(workflow, diagram)
            if not ready:  # waiting for a timer: a day passes
                clock.advance(timedelta(hours=25))
                engine.advance(workflow)
                continue
            for task in ready:
                if record:
                    result.shipped_tasks.append(task.info.element_id)
                engine.complete(workflow, task.id, form_data([asdict(f) for f in task.info.form]))
        raise AssertionError(f"the life did not end: {result.shipped_tasks}")

    life(record=True)
    for _ in range(5):  # warm-up
        first_tasks()
        life()
    result.shipped_first_task = _timed_rate(first_cases, first_tasks)
    result.shipped_life = _timed_rate(life_cases, life)


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
        with routing.session() as session:  # parse the diagram and start the sandbox before the clock starts
            version_id = session.processes.newest(MALL).id
            routing.context.diagrams.get(version_id, session.processes.get)
            routing.context.sandbox.prepare(
                routing.context.diagrams.source(version_id, session.processes.get)
            )
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
                completion = routing.handle(handlers.complete_task, command)
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
    with routing.session() as session:  # start the sandbox processes before anything is timed
        version_id = session.processes.newest(MALL).id
        routing.context.sandbox.prepare(routing.context.diagrams.source(version_id, session.processes.get))
    scheduler = routing.scheduler()
    policy = Policy(handler_acts_within=timedelta(days=30), callback_from=timedelta(minutes=1))
    wait = timedelta(seconds=policy.as_workflow_data()["callback_from_seconds"] + 1)
    most = max(loops)
    samples: dict[int, list[tuple[float, dict[str, float]]]] = {n: [] for n in range(most + 1)}
    sizes: dict[int, list[tuple[int, int, int | None]]] = {n: [] for n in range(most + 1)}

    def open_task(case_id: str) -> tuple[str, str]:
        with routing.session() as session:
            [task] = session.tasks.open_for_case(case_id)
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
        step(loop, lambda: routing.handle(handlers.complete_task, command))

    def fire(loop: int) -> None:
        clock.advance(wait)
        fired: list[int] = []
        step(loop, lambda: fired.append(scheduler.tick()))
        assert fired == [1], fired

    try:
        for n in range(cases):
            envelope = complaint_envelope(f"BR-loop-{n:03d}", policy.as_workflow_data())
            with routing.session() as session:
                handlers.start_case(session, routing.context, envelope)
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
                with routing.session() as session:
                    row = session.conn.execute(
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
            with routing.session() as session:
                handlers.start_case(session, routing.context, envelope)

        def complete(task_id: str) -> None:
            command = CompleteTask(task_id, FLOOR_DATA, "bench-floor", FLOOR_SUPERVISOR)
            routing.handle(handlers.complete_task, command)

        def open_floor_tasks() -> list[str]:
            with routing.session() as session:
                rows = session.conn.execute(
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


# --------------------------------------------------------------------------- the run


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--engine-cases", type=int, default=600, help="(a) cases to the first task")
    parser.add_argument("--engine-happy", type=int, default=300, help="(a) cases through the happy path")
    parser.add_argument("--cases", type=int, default=1000, help="(b) cases published per worker count")
    parser.add_argument("--workers", default="1,2", help="(b, e) worker process counts (default 1,2)")
    parser.add_argument("--threads", type=int, default=4, help="(b) threads per completion driver")
    parser.add_argument("--single", type=int, default=20, help="(b) cases timed one at a time")
    parser.add_argument("--loops", default="1,5,20", help="(d) reopen counts to report (default 1,5,20)")
    parser.add_argument("--loop-cases", type=int, default=2, help="(d) cases looped")
    parser.add_argument("--timer-cases", type=int, default=100, help="(e) cases per worker count")
    parser.add_argument("--timer-rate", type=float, default=25.0, help="(e) cases started per second")
    parser.add_argument("--timer-due", type=int, default=2, help="(e) handler_acts_within_seconds")
    parser.add_argument("--skip-engine", action="store_true")
    parser.add_argument("--skip-service", action="store_true")
    parser.add_argument("--skip-loops", action="store_true")
    parser.add_argument("--skip-timers", action="store_true")
    parser.add_argument(
        "--diagnose",
        type=int,
        nargs="?",
        const=200,
        default=0,
        metavar="CASES",
        help="also time start_case and complete_task in this process, one at a time, per SQL statement"
        " and engine phase (default 200 cases)",
    )
    parser.add_argument(
        "--admin-url",
        default=os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
        help="a database to create and drop the benchmark database from (env BENCH_DATABASE_URL)",
    )
    parser.add_argument(
        "--amqp-base",
        default=os.environ.get("BENCH_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672"),
        help="RabbitMQ without a vhost (env BENCH_AMQP_URL); the run adds a vhost of its own",
    )
    parser.add_argument(
        "--wait-idle",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="first wait up to this long for the machine to be idle (default 60)",
    )
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    args.workers = [int(x) for x in args.workers.split(",") if x.strip()]
    args.loops = sorted({int(x) for x in args.loops.split(",") if x.strip()})
    return args


def run(args: argparse.Namespace) -> int:
    results: dict[str, Any] = {"machine": machine()}
    name = f"mall_bench_routing_{os.getpid()}"
    vhost = f"bench_routing_{os.getpid()}"
    secret = secrets.token_urlsafe(48)
    engine: EngineResult | None = None
    starts: list[Starts] = []
    completions: list[Completions] = []
    lags: list[TimerLag] = []
    loops: list[LoopRow] = []
    breakdowns: list[Breakdown] = []
    notes: list[str] = []

    results["busy_before"] = (
        wait_idle(args.wait_idle, sample=2.0, announce=True) if args.wait_idle > 0 else busy_share(1.0)
    )
    results["load_before"] = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="bench-routing-") as tmp, contextlib.ExitStack() as cleanup:
        drivers: list = []
        cleanup.callback(lambda: [p.kill() for p in drivers if p.is_alive()])
        needs_db = not (args.skip_service and args.skip_loops) or bool(args.diagnose)
        url = database_url(args.admin_url, name)
        amqp_url = f"{args.amqp_base.rstrip('/')}/{vhost}"
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("POLICY_", "DB_POOL"))},
            "DATABASE_URL": url,
            "AMQP_URL": amqp_url,
            "AUTH_SECRET": secret,
            "MALL_ID": MALL,
            "LOG_LEVEL": "WARNING",
            "MIGRATE_ON_START": "false",
        }
        if needs_db:
            print(f"creating database {name}, migrating, deploying {BPMN} ...", flush=True)
            cleanup.callback(drop_database, args.admin_url, name)
            cleanup.callback(lambda: print(f"dropping database {name}", flush=True))
            create_database(args.admin_url, name)
            cli(env, "migrate")
            print("  " + cli(env, "deploy", str(DIAGRAMS / BPMN), str(DIAGRAMS / DMN)), flush=True)
            results["postgres"] = postgres_facts(url)
        if not args.skip_service:
            print(f"creating RabbitMQ vhost {vhost} ...", flush=True)
            cleanup.callback(delete_vhost, vhost)
            cleanup.callback(lambda: print(f"deleting vhost {vhost}", flush=True))
            create_vhost(vhost)
        print_machine(results, None)

        if not args.skip_engine:
            print("\n(a) the bare engine, in memory ...", flush=True)
            engine = bench_engine(args.engine_cases, args.engine_happy)
            bench_shipped(engine, max(1, args.engine_cases // 4), max(1, args.engine_happy // 4))
            print(
                f"  first task {engine.first_task:.0f} cases/s, happy path {engine.happy:.0f} cases/s",
                flush=True,
            )

        if not args.skip_service:
            publisher = Publisher(amqp_url)
            cleanup.callback(publisher.close)
            results["rabbitmq"] = publisher.server_version()
            with psycopg.connect(url, autocommit=True) as conn:
                for count in args.workers:
                    clear_cases(url)
                    print(f"\n(b) service with {count} worker process(es) ...", flush=True)
                    workers = Workers(count, env, Path(tmp))
                    cleanup.callback(workers.stop)
                    deadline = time.monotonic() + 60
                    while publisher.queue_state(COMPLAINTS_QUEUE)[1] < count:
                        workers.check()
                        if time.monotonic() > deadline:
                            raise RuntimeError("the workers did not start consuming within 60 s")
                        time.sleep(0.2)
                    warm_up(publisher, conn, count)
                    single = [x * 1000 for x in single_latency(publisher, conn, args.single)]
                    meter = CpuMeter(name, workers.pids)
                    started = measure_starts(publisher, conn, args.cases, count, meter)
                    started.single_p50_ms = _percentile(single, 0.5)
                    started.single_p99_ms = _percentile(single, 0.99)
                    starts.append(started)
                    print(
                        f"  starts: {started.rate:.1f} cases/s ({started.missing} missing);"
                        f" {started.cpu.describe(args.cases) if started.cpu else ''}",
                        flush=True,
                    )
                    done = measure_completions(url, secret, conn, count, args.threads, meter, drivers)
                    completions.append(done)
                    print(
                        f"  completions: {done.rate:.1f} tasks/s ({done.errors} errors);"
                        f" {done.cpu.describe(done.ok) if done.cpu else ''}",
                        flush=True,
                    )
                    if done.first_errors:
                        print("  first errors: " + " | ".join(done.first_errors), flush=True)
                    if not args.skip_timers:
                        lag = measure_timer_lag(
                            publisher, conn, count, args.timer_cases, args.timer_rate, args.timer_due
                        )
                        lags.append(lag)
                        print(
                            f"  timer lag: p50 {_fmt(lag.p50_s, 3)} s, p99 {_fmt(lag.p99_s, 3)} s"
                            f" ({lag.fired}/{lag.cases} fired)",
                            flush=True,
                        )
                    dead = publisher.queue_state(f"{COMPLAINTS_QUEUE}.dead")[0]
                    if dead:
                        notes.append(f"{dead} message(s) dead-lettered with {count} worker(s)")
                    workers.stop()
                    problems = workers.problems()
                    if problems:
                        notes.append(
                            f"workers ({count}) logged {len(problems)} warning/error line(s), first: "
                            + problems[0]
                        )

        if not args.skip_loops:
            print("\n(d) looping cases, in-process with a MovableClock ...", flush=True)
            clear_cases(url)
            loops = bench_loops(url, secret, args.loops, args.loop_cases)

        if args.diagnose and needs_db:
            print("\n--diagnose: start_case and complete_task in this process, one at a time ...", flush=True)
            clear_cases(url)
            breakdowns = diagnose(url, secret, args.diagnose)

        report(results, engine, starts, completions, lags, loops, notes, args)
        for breakdown in breakdowns:
            print_breakdown(breakdown)
        if args.json:
            results.update(
                engine=vars(engine) if engine else None,
                starts=[vars(x) | {"rate": x.rate, "cpu": vars(x.cpu) if x.cpu else None} for x in starts],
                completions=[
                    vars(x) | {"rate": x.rate, "cpu": vars(x.cpu) if x.cpu else None} for x in completions
                ],
                timer_lag=[vars(x) for x in lags],
                loops=[vars(x) for x in loops],
                diagnose=[vars(x) for x in breakdowns],
                notes=notes,
            )
            args.json.write_text(json.dumps(results, indent=2, default=str))
    return 0


def print_machine(results: dict, rabbitmq: str | None) -> None:
    m, pg = results["machine"], results.get("postgres", {})
    line = (
        f"machine: {m['cpu']}, {m['cores']} cores, {m['ram']} RAM, {m['os']}\n"
        f"PostgreSQL {pg.get('server_version', '?')} (synchronous_commit={pg.get('synchronous_commit', '?')},"
        f" fsync={pg.get('fsync', '?')}), RabbitMQ {rabbitmq or results.get('rabbitmq', '?')},"
        f" Python {m['python']}, SpiffWorkflow {m['spiffworkflow']}, {m['date']}, code {m['code']}"
    )
    print(line, flush=True)
    if results.get("busy_before", 0) > 15:
        print(
            f"warning: the machine was {results['busy_before']:.0f}% busy before the run"
            f" (load {results['load_before']:.2f}); the figures are low and scattered",
            flush=True,
        )


def report(results, engine, starts, completions, lags, loops, notes, args) -> None:
    print("\n" + "=" * 100)
    print_machine(results, results.get("rabbitmq"))
    if engine:
        print("\n(a) bare engine, in memory, one process")
        print(f"  start -> first user task        {engine.first_task:8.0f} cases/s")
        print(f"  happy path to completion        {engine.happy:8.0f} cases/s")
        print(
            f"  (first task + one dump          {engine.first_task_dumped:8.0f} cases/s;"
            f" state {engine.state_bytes} bytes of JSON)"
        )
        print(f"  (happy path, restore + dump around every step {engine.happy_stored:.0f} cases/s)")
        if engine.first_task_sandboxed:
            print(
                f"  (in a sandbox process, one round trip per step: first task {engine.first_task_sandboxed:.0f}"
                f" cases/s, happy path {engine.happy_sandboxed:.0f} cases/s)"
            )
        if engine.shipped_first_task:
            print(
                f"  on bpmn/complaint.bpmn, the diagram the mall runs: first tasks {engine.shipped_first_task:.0f}"
                f" cases/s ({engine.first_task / engine.shipped_first_task:.1f}x slower than the test diagram),"
                f" whole life {engine.shipped_life:.0f} cases/s ({engine.happy / engine.shipped_life:.1f}x slower"
                f" than its happy path; tasks {', '.join(engine.shipped_tasks)})"
            )
    if starts:
        print(f"\n(b) service: {args.cases} complaint.received published in a burst -> first task committed")
        print(
            f"  {'workers':>7}  {'cases/s':>8}  {'% engine':>8}  {'p50 ms':>7}  {'p99 ms':>7}  {'1-by-1 p50':>10}"
            f"  {'publish s':>9}  {'unrelayed':>9}  CPU"
        )
        for s in starts:
            share = f"{100 * s.rate / engine.first_task:.0f}%" if engine and engine.first_task else "-"
            print(
                f"  {s.workers:>7}  {s.rate:>8.1f}  {share:>8}  {_fmt(s.latency_p50_ms):>7}"
                f"  {_fmt(s.latency_p99_ms):>7}  {_fmt(s.single_p50_ms):>10}  {s.publish_seconds:>9.2f}"
                f"  {s.outbox_backlog:>9}  {s.cpu.describe(s.cases) if s.cpu else ''}"
            )
        print(
            "  (p50/p99: publish -> task row's created_at, queueing in the burst included; 1-by-1: one case"
            " at a time, publish -> row visible)"
        )
    if completions:
        print(
            "\n(b) service: complete handle_floor through the service layer (routing.handle(complete_task))"
        )
        print(
            f"  {'workers':>7}  {'drivers x threads':>17}  {'tasks/s':>8}  {'p50 ms':>7}  {'p99 ms':>7}"
            f"  {'errors':>6}  {'unrelayed':>9}  CPU"
        )
        for c in completions:
            print(
                f"  {c.workers:>7}  {f'{c.drivers} x {c.threads}':>17}  {c.rate:>8.1f}  {_fmt(c.p50_ms):>7}"
                f"  {_fmt(c.p99_ms):>7}  {c.errors:>6}  {c.outbox_backlog:>9}  {c.cpu.describe(c.ok) if c.cpu else ''}"
            )
    if engine and starts:
        print(
            f"\n(c) service first-task rate as a share of the bare engine's (target >= {TARGET_SHARE:.0f}%)"
        )
        for s in starts:
            share = 100 * s.rate / engine.first_task if engine.first_task else 0.0
            verdict = "meets" if share >= TARGET_SHARE else "misses"
            print(
                f"  {s.workers} worker(s): {s.rate:.1f} / {engine.first_task:.0f} = {share:.0f}%: {verdict} the target"
            )
            if s.cpu:
                ours = s.cpu.routing + s.cpu.postgres + s.cpu.rabbitmq + s.cpu.bench
                per_case = 1000 * ours / s.cases
                ceiling = 1000 * (os.cpu_count() or 1) / per_case
                print(
                    f"    CPU per case, every process of the path: {per_case:.2f} ms (engine alone"
                    f" {1000 / engine.first_task:.2f} ms); with all {os.cpu_count()} cores busy at most"
                    f" {ceiling:.0f} cases/s = {100 * ceiling / engine.first_task:.0f}% of the engine;"
                    f" the machine was {100 * (ours + s.cpu.others) / (s.cpu.seconds * (os.cpu_count() or 1)):.0f}% busy"
                )
    if loops:
        print(
            f"\n(d) a case looping (callback not satisfied -> handle_ops -> reply -> timer -> callback),"
            f" {args.loop_cases} case(s); mean ms per step (one transaction: load + advance + save)"
        )
        print(
            f"  {'reopened':>8}  {'steps':>5}  {'ms/step':>7}  {'restore':>7}  {'action':>7}  {'query':>7}"
            f"  {'dump':>7}  {'sandbox':>7}  {'rest':>7}  {'state JSON B':>12}  {'stored B':>8}  {'tasks':>5}"
        )
        for row in loops:
            print(
                f"  {row.reopened:>8}  {row.steps:>5}  {_fmt(row.step_ms, 2):>7}  {_fmt(row.restore_ms, 2):>7}"
                f"  {_fmt(row.action_ms, 2):>7}  {_fmt(row.query_ms, 2):>7}  {_fmt(row.dump_ms, 2):>7}"
                f"  {_fmt(row.sandbox_ms, 2):>7}  {_fmt(row.rest_ms, 2):>7}  {row.state_json_bytes:>12}  {row.state_stored_bytes:>8}"
                f"  {row.state_tasks if row.state_tasks is not None else '-':>5}"
            )
        print(
            "  (engine restore / action: create, complete, advance / query: ready tasks, next due / dump, in"
            " this process; sandbox: the whole step in a sandbox process, round trip included;"
            " rest = SQL, JSON, task mirroring, events, commit; state and tasks in it: after the loop, at"
            " handle_ops again)"
        )
    if lags:
        print(
            f"\n(e) timer lag, real clock: due time -> handle_ops created (target p99 <= {TARGET_TIMER_P99:g} s)"
        )
        print(
            f"  {'workers':>7}  {'fired':>9}  {'p50 s':>6}  {'p99 s':>6}  {'max s':>6}  {'seen p50':>8}  {'seen p99':>8}"
        )
        for lag in lags:
            print(
                f"  {lag.workers:>7}  {f'{lag.fired}/{lag.cases}':>9}  {_fmt(lag.p50_s, 3):>6}  {_fmt(lag.p99_s, 3):>6}"
                f"  {_fmt(lag.max_s, 3):>6}  {_fmt(lag.seen_p50_s, 3):>8}  {_fmt(lag.seen_p99_s, 3):>8}"
            )
        print(
            f"  ({args.timer_cases} cases started at {args.timer_rate:g}/s with handler_acts_within_seconds="
            f"{args.timer_due}; seen = when this process first saw the row, polling every 20 ms)"
        )
    for note in notes:
        print(f"note: {note}")


def print_breakdown(breakdown: Breakdown) -> None:
    print(
        f"\n--diagnose: {breakdown.what} in this process, {breakdown.count} one at a time:"
        f" {breakdown.ms_per_op:.2f} ms each ({1000 / breakdown.ms_per_op:.0f}/s), wall time by part"
    )
    for label, ms, calls in breakdown.parts:
        times = f"{calls:4.1f}x" if calls else "     "
        print(f"  {ms:7.3f} ms  {100 * ms / breakdown.ms_per_op:4.0f}%  {times}  {label}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # also when started with SIGINT ignored
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _on_signal)
    try:
        return run(args)
    except (KeyboardInterrupt, Interrupted):
        print("\ninterrupted: stopped and cleaned up", file=sys.stderr)
        return 130
    except Exception as exc:
        traceback.print_exc()
        print(f"\nbenchmark failed: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
