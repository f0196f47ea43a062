"""What bench/routing.py's phases share: the test diagram and policy, complaint envelopes, CPU meters,
the run's vhost and database, the publisher and the routing worker processes.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from kombu import Producer
from psycopg import sql

from bench.common import _machine_busy, _own_cpu, _percentile, _postgres_is_ours, _processes, with_descendants
from bench.common import machine as base_machine
from services.common.bus.connection import broker_connection
from services.common.bus.envelope import Actor, Envelope, event
from services.common.bus.events import COMPLAINT_RECEIVED
from services.common.bus.topology import EVENTS_EXCHANGE
from services.common.settings import Policy

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
    return event(
        COMPLAINT_RECEIVED,
        mall_id=MALL,
        about=complaint_id,
        actor=Actor("desk", "service_desk"),
        at=datetime.now(UTC),
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
