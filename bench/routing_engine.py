"""bench/routing.py (a): the bare engine in memory, on the test diagram and on the shipped one."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.routing_support import (
    BPMN,
    DAY_POLICY,
    DIAGRAMS,
    DMN,
    FLOOR_DATA,
    ROOT,
    complaint_envelope,
    workflow_data,
)
from services.common.clock import Clock, MovableClock
from services.routing.domain.model import QUEUES
from services.routing.engine import Engine, parse_diagram
from services.routing.engine.sandbox import DiagramSource, Sandbox
from services.routing.engine.step_request import Step, StepResult

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
