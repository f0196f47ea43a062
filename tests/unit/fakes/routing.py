"""Routing's unit of work in memory: the repositories its handlers use, as dicts and lists, and the
real engine taking each step in this process instead of a sandbox child.

Each fake keeps only what a handler's test looks at; the SQL behind the real ones (the case's lock
and revision check, the due list skipping locked cases, the batched timeline) is tested against
PostgreSQL in tests/integration/routing.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from services.common.bus.envelope import Actor, Envelope, event
from services.common.bus.events import COMPLAINT_RECEIVED
from services.common.clock import MovableClock
from services.common.identity.model import Identity
from services.routing.adapters.cases import CaseRow, CaseSummary
from services.routing.adapters.processes import ProcessVersion
from services.routing.domain.model import OPEN_STATES, CaseStatus, Task, TaskState
from services.routing.engine import Engine
from services.routing.engine.proof import ProofRequest, ProofResult
from services.routing.engine.sandbox import DiagramSource, _answer, _result, _StepClock
from services.routing.engine.step_request import Step, StepResult
from services.routing.service_layer.context import Context
from services.routing.service_layer.diagrams import DiagramCache
from tests.unit.fakes.transaction import InMemoryUnitOfWork
from tests.unit.test_engine_loops import (
    COMPLAINT,
    DIAGRAMS,
    POLICY,
)  # the test diagrams, as the engine's tests run them

MALL = "demo"
NOW = datetime(2026, 11, 22, 2, 0, tzinfo=UTC)


def diagram(name: str) -> str:
    return (DIAGRAMS / name).read_text(encoding="utf-8")


class InProcessSandbox:
    """The sandbox's steps and proofs answered in this process, by the code its children run
    (services/routing/engine/sandbox.py): no child process, no CPU limit."""

    def __init__(self) -> None:
        self.clock = _StepClock()
        self.engine = Engine(self.clock)
        self.diagrams: dict[str, Any] = {}  # parsed once per source hash, as a child keeps them

    def run(self, source: DiagramSource, step: Step | ProofRequest, now: datetime) -> StepResult:
        return _result(_answer(self.engine, self.clock, self.diagrams, source.key, source, step, now))

    def prove(self, source: DiagramSource, request: ProofRequest) -> ProofResult:
        return self.run(source, request, request.start)


def received(number: str = "TS-20261122-0001", **changes) -> Envelope:
    """complaint.received as intake publishes it, for a new complaint."""
    complaint_id = str(uuid.uuid4())
    payload = {**COMPLAINT, "id": complaint_id, "number": number, "policy": POLICY, **changes}
    actor = Actor("desk", "service_desk")
    return event(COMPLAINT_RECEIVED, mall_id=MALL, about=complaint_id, actor=actor, at=NOW, payload=payload)


SANDBOX = InProcessSandbox()  # shared: it only caches parsed diagrams by their files' hash


def context(now: datetime = NOW) -> Context:
    clock = MovableClock(now)
    return Context(
        mall_id=MALL,
        clock=clock,
        engine=Engine(clock),
        diagrams=DiagramCache(),
        sandbox=SANDBOX,
        policy={**POLICY, "time_zone": "Asia/Shanghai"},
    )


class FakeProcesses:
    def __init__(self) -> None:
        self.versions: list[ProcessVersion] = []
        self.activated: list[dict[str, Any]] = []

    def add(
        self,
        mall_id,
        process_key,
        bpmn_xml,
        dmn_xml,
        source_hash,
        deployed_by,
        deployed_at,
        note,
        form_schemas=None,
        called_bpmn=None,
    ) -> ProcessVersion:
        number = 1 + max((v.version for v in self._of(mall_id, process_key)), default=0)
        version = ProcessVersion(
            str(uuid.uuid4()),
            mall_id,
            process_key,
            number,
            bpmn_xml,
            dmn_xml,
            source_hash,
            deployed_by,
            deployed_at,
            note,
            form_schemas or {},
            called_bpmn or {},
        )
        self.versions.append(version)
        return version

    def _of(self, mall_id: str, process_key: str | None) -> list[ProcessVersion]:
        return [v for v in self.versions if v.mall_id == mall_id and process_key in (None, v.process_key)]

    def newest(self, mall_id: str, process_key: str | None = None) -> ProcessVersion | None:
        return next(reversed(self._of(mall_id, process_key)), None)

    def active(self, mall_id: str, process_key: str) -> ProcessVersion | None:
        for activation in reversed(self.activated):
            if (activation["mall_id"], activation["process_key"]) == (mall_id, process_key):
                return self.get(activation["version_id"])
        return self.newest(mall_id, process_key)

    def activate(self, version: ProcessVersion, by: str, at: datetime, reason: str) -> None:
        self.activated.append(
            {
                "mall_id": version.mall_id,
                "process_key": version.process_key,
                "version_id": version.id,
                "by": by,
                "reason": reason,
            }
        )

    def with_source(self, mall_id: str, process_key: str, source_hash: str) -> ProcessVersion | None:
        same = [v for v in self._of(mall_id, process_key) if v.source_hash == source_hash]
        return same[-1] if same else None

    def get(self, version_id: str) -> ProcessVersion | None:
        return next((v for v in self.versions if v.id == version_id), None)

    def find(self, mall_id: str, process_key: str, version: int) -> ProcessVersion | None:
        return next((v for v in self._of(mall_id, process_key) if v.version == version), None)


class FakeCases:
    def __init__(self, processes: FakeProcesses) -> None:
        self.processes = processes  # a summary names its version's key and number
        self.rows: dict[str, CaseRow] = {}
        self.timelines: dict[str, list[dict[str, Any]]] = {}
        self.incident_rows: dict[str, list[dict[str, Any]]] = {}
        self.told: dict[str, list[str]] = {}  # case id -> the departments its notices told

    def add(self, case: CaseRow) -> bool:
        if case.id in self.rows:
            return False
        self.rows[case.id] = _copy(case)
        return True

    def lock(self, case_id: str) -> CaseRow | None:
        found = self.rows.get(case_id)
        return _copy(found) if found else None

    def lock_with_task(self, mall_id: str, task_id: str) -> tuple[CaseRow, Task] | None:
        task = self.tasks.get(mall_id, task_id)
        return (self.lock(task.case_id), task) if task else None

    def get(self, mall_id: str, case_id: str) -> CaseRow | None:
        found = self.lock(case_id)
        return found if found is not None and found.mall_id == mall_id else None

    def summary(self, mall_id: str, case_id: str) -> CaseSummary | None:
        case = self.get(mall_id, case_id)
        if case is None:
            return None
        version = self.processes.get(case.process_version_id)
        return CaseSummary(
            id=case.id,
            mall_id=case.mall_id,
            number=case.number,
            process_version_id=case.process_version_id,
            process_key=version.process_key,
            version=version.version,
            status=case.status,
            next_due_at=case.next_due_at,
            floor=case.floor,
            department=case.department,
            visited=case.visited,
            current_elements=case.current_elements,
            had_incidents=bool(self.incidents(case_id)),
            departments_told=list(self.told.get(case_id, [])),
        )

    def tell_department(self, case_id: str, department: str) -> None:
        told = self.told.setdefault(case_id, [])
        if department not in told:
            told.append(department)

    def save(self, case: CaseRow) -> None:
        if self.rows[case.id].revision != case.revision:
            raise RuntimeError(f"case {case.id} changed under this step (revision {case.revision})")
        case.revision += 1
        self.rows[case.id] = _copy(case)

    def any_due(self, now: datetime) -> bool:
        return bool(self.lock_due(now, 1))

    def lock_due(self, now: datetime, limit: int) -> list[CaseRow]:
        due = [
            case
            for case in self.rows.values()
            if case.status == CaseStatus.RUNNING and case.next_due_at and case.next_due_at <= now
        ]
        return [_copy(case) for case in sorted(due, key=lambda case: case.next_due_at)[:limit]]

    def add_timeline(
        self, case_id, at, actor, role, kind, element_id=None, task_id=None, detail=None, before=None
    ) -> None:
        entry = {"at": at, "actor": actor, "role": role, "kind": kind, "element_id": element_id}
        rows = self.timelines.setdefault(case_id, [])
        rows.insert(
            len(rows) if before is None else before, {**entry, "task_id": task_id, "detail": detail or {}}
        )

    def timeline_mark(self, case_id: str) -> int:
        return len(self.timelines.get(case_id, []))

    @contextlib.contextmanager
    def deferred(self) -> Iterator[None]:
        yield  # in memory, every row is written at once

    def timeline(self, case_id: str) -> list[dict[str, Any]]:
        return self.timelines.get(case_id, [])

    def kinds(self, case_id: str) -> list[str]:
        return [entry["kind"] for entry in self.timeline(case_id)]

    def add_incident(self, case_id: str, at: datetime, step: str, error: str, detail: dict[str, Any]) -> str:
        incident = {"id": str(uuid.uuid4()), "at": at, "step": step, "error": error, "detail": detail}
        self.incident_rows.setdefault(case_id, []).append(
            {**incident, "resolved_at": None, "resolved_by": None}
        )
        return incident["id"]

    def resolve_incidents(self, case_id: str, at: datetime, by: str) -> None:
        for incident in self.incidents(case_id):
            if incident["resolved_at"] is None:
                incident.update(resolved_at=at, resolved_by=by)

    def incidents(self, case_id: str) -> list[dict[str, Any]]:
        return self.incident_rows.get(case_id, [])


def _copy(case: CaseRow) -> CaseRow:
    """What a read gives: a row of its own, as the database would."""
    return replace(case, visited=list(case.visited))


class FakeTasks:
    def __init__(self) -> None:
        self.rows: dict[str, Task] = {}

    def add(self, task: Task) -> None:
        self.rows[task.id] = task

    def get(self, mall_id: str, task_id: str, for_update: bool = False) -> Task | None:
        found = self.rows.get(task_id)
        return found if found is not None and found.mall_id == mall_id else None

    def open_for_case(self, case_id: str) -> list[Task]:
        found = [task for task in self.rows.values() if task.case_id == case_id and task.state in OPEN_STATES]
        return sorted(found, key=lambda task: task.created_at)

    def set_assignee(self, task_id: str, assignee: str | None) -> None:
        state = TaskState.CLAIMED if assignee else TaskState.OPEN
        self.rows[task_id] = replace(self.rows[task_id], assignee=assignee, state=state)

    def describe(self, task_id: str, title: str, form, instructions, titles) -> None:
        self.rows[task_id] = replace(
            self.rows[task_id], title=title, form=form, instructions=instructions, titles=titles
        )

    def set_due(self, task_id: str, due_at: datetime) -> None:
        self.rows[task_id] = replace(self.rows[task_id], due_at=due_at)

    def close(self, task_id: str, state: TaskState, at: datetime, by: str) -> None:
        self.rows[task_id] = replace(self.rows[task_id], state=state, closed_at=at, closed_by=by)

    def of_case(self, case_id: str, element_id: str) -> Task:
        """The case's open task at this element (a test's shortcut)."""
        return next(task for task in self.open_for_case(case_id) if task.element_id == element_id)


class FakeMessages:
    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []

    def buffer(self, case_id, name, payload, key, received_at, expires_at) -> bool:
        if self.seen(key):
            return False
        self.rows.append(
            {
                "id": str(uuid.uuid4()),
                "case_id": case_id,
                "name": name,
                "payload": payload,
                "key": key,
                "received_at": received_at,
                "expires_at": expires_at,
                "delivered_at": None,
            }
        )
        return True

    def seen(self, key: str) -> bool:
        return any(row["key"] == key for row in self.rows)

    def waiting(self, case_id: str, now: datetime) -> list[dict[str, Any]]:
        return [
            row
            for row in self.rows
            if row["case_id"] == case_id and row["delivered_at"] is None and row["expires_at"] > now
        ]

    def delivered(self, message_id: str, at: datetime) -> None:
        next(row for row in self.rows if row["id"] == message_id)["delivered_at"] = at


class FakeStaff:
    def __init__(self) -> None:
        self.people: dict[str, Identity] = {}

    def hire(self, username: str, *roles: str, floors: frozenset[str] = frozenset()) -> None:
        self.people[username] = Identity(
            subject=username, roles=frozenset(roles), mall_id=MALL, floors=floors, departments=frozenset()
        )

    def active(self, mall_id: str, username: str) -> Identity | None:
        person = self.people.get(username)
        return person if person is not None and person.mall_id == mall_id else None


class FakeErasure:
    def __init__(self, cases: FakeCases) -> None:
        self.cases = cases
        self.erased: list[str] = []

    def erase(self, complaint_ids: list[str]) -> list[str]:
        found = [complaint_id for complaint_id in complaint_ids if complaint_id in self.cases.rows]
        self.erased.extend(found)
        return found


class FakeUnitOfWork(InMemoryUnitOfWork):
    """The service's repositories in memory (tests/unit/fakes/transaction.py keeps the transaction
    and its events); `routing_keys` holds the key each event was published under, when it had one."""

    def __init__(self) -> None:
        super().__init__()
        self.processes = FakeProcesses()
        self.cases = FakeCases(self.processes)
        self.tasks = FakeTasks()
        self.cases.tasks = self.tasks  # a task's case, as the JOIN of the real repository finds it
        self.messages = FakeMessages()
        self.staff = FakeStaff()
        self.erasure = FakeErasure(self.cases)
        self.routing_keys: dict[str, str] = {}

    def publish(self, envelope: Envelope, routing_key: str | None = None) -> None:
        super().publish(envelope)
        if routing_key is not None:
            self.routing_keys[envelope.id] = routing_key

    def before_step(self, case_id: str, now: datetime) -> tuple[list[dict[str, Any]], list[Task]]:
        return self.messages.waiting(case_id, now), self.tasks.open_for_case(case_id)

    @contextlib.contextmanager
    def deferred(self) -> Iterator[None]:
        with self.cases.deferred():
            yield
