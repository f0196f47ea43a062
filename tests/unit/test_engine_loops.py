"""A case that loops: its stored state and the cost of a step stay flat, and it still runs after
hundreds of rounds (services/routing/engine/compaction.py).

Every step here goes the way the service layer takes it: restore the stored state, act, dump. The
reopen loop of the test diagram is callback (not satisfied) → handle_ops → reply → wait_callback
(a timer: the clock is moved, never slept on) → callback. Sizes are deterministic and asserted;
step times are only printed (`pytest -s`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from copy import deepcopy
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.event_definition import TimerConditionalEventDefinitionConverter
from SpiffWorkflow.camunda.serializer import DEFAULT_CONFIG as CAMUNDA_CONFIG
from SpiffWorkflow.util.task import TaskState  # only to look inside workflows the way the engine does

from services.common.clock import MovableClock
from services.common.settings import Policy
from services.routing.domain.model import QUEUES
from services.routing.engine import Diagram, Engine, ReadyTask, parse_diagram
from services.routing.engine.timers import ClockCycleTimer, ClockDurationTimer, ClockTimeDateTimer

DIAGRAMS = Path(__file__).resolve().parents[1] / "data" / "routing"
POLICY = Policy(handler_acts_within=timedelta(hours=24), callback_from=timedelta(hours=24)).as_workflow_data()
COMPLAINT = {
    "id": "c-1",
    "number": "TS-20261122-0001",
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
    "description": "店员态度恶劣，拒绝换货",
    "promised_reply_date": "2026-11-25",
}
CALLBACK_WAIT = timedelta(seconds=POLICY["callback_from_seconds"] + 1)

# A loop with a parallel split and join, an interrupting boundary timer, an embedded subprocess
# holding a user task, and a gateway that reads data set before the loop began.
ROUNDS_BPMN = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:camunda="http://camunda.org/schema/1.0/bpmn"
    id="Definitions_rounds" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="rounds" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:scriptTask id="setup" scriptFormat="python"><bpmn:incoming>f1</bpmn:incoming>
      <bpmn:outgoing>f2</bpmn:outgoing><bpmn:script>first_seen = "early"
rounds = 0
lates = 0</bpmn:script></bpmn:scriptTask>
    <bpmn:exclusiveGateway id="again"><bpmn:incoming>f2</bpmn:incoming><bpmn:incoming>f_back</bpmn:incoming>
      <bpmn:outgoing>f3</bpmn:outgoing></bpmn:exclusiveGateway>
    <bpmn:parallelGateway id="fork"><bpmn:incoming>f3</bpmn:incoming><bpmn:outgoing>f_a</bpmn:outgoing>
      <bpmn:outgoing>f_b</bpmn:outgoing></bpmn:parallelGateway>
    <bpmn:userTask id="a" name="A" camunda:candidateGroups="service_desk"><bpmn:incoming>f_a</bpmn:incoming>
      <bpmn:outgoing>f_a_done</bpmn:outgoing></bpmn:userTask>
    <bpmn:boundaryEvent id="a_timeout" attachedToRef="a" cancelActivity="true"><bpmn:outgoing>f_late</bpmn:outgoing>
      <bpmn:timerEventDefinition><bpmn:timeDuration xsi:type="bpmn:tFormalExpression">"PT1H"</bpmn:timeDuration>
      </bpmn:timerEventDefinition></bpmn:boundaryEvent>
    <bpmn:scriptTask id="a_late" scriptFormat="python"><bpmn:incoming>f_late</bpmn:incoming>
      <bpmn:outgoing>f_late_done</bpmn:outgoing><bpmn:script>lates = lates + 1</bpmn:script></bpmn:scriptTask>
    <bpmn:exclusiveGateway id="a_merge"><bpmn:incoming>f_a_done</bpmn:incoming>
      <bpmn:incoming>f_late_done</bpmn:incoming><bpmn:outgoing>f_a_join</bpmn:outgoing></bpmn:exclusiveGateway>
    <bpmn:userTask id="b" name="B" camunda:candidateGroups="floor_supervisor"><bpmn:incoming>f_b</bpmn:incoming>
      <bpmn:outgoing>f_b_join</bpmn:outgoing></bpmn:userTask>
    <bpmn:parallelGateway id="join"><bpmn:incoming>f_a_join</bpmn:incoming><bpmn:incoming>f_b_join</bpmn:incoming>
      <bpmn:outgoing>f_sub</bpmn:outgoing></bpmn:parallelGateway>
    <bpmn:subProcess id="sub"><bpmn:incoming>f_sub</bpmn:incoming><bpmn:outgoing>f_count</bpmn:outgoing>
      <bpmn:startEvent id="sub_start"><bpmn:outgoing>s1</bpmn:outgoing></bpmn:startEvent>
      <bpmn:userTask id="sub_work" camunda:candidateGroups="service_desk"><bpmn:incoming>s1</bpmn:incoming>
        <bpmn:outgoing>s2</bpmn:outgoing></bpmn:userTask>
      <bpmn:endEvent id="sub_end"><bpmn:incoming>s2</bpmn:incoming></bpmn:endEvent>
      <bpmn:sequenceFlow id="s1" sourceRef="sub_start" targetRef="sub_work" />
      <bpmn:sequenceFlow id="s2" sourceRef="sub_work" targetRef="sub_end" />
    </bpmn:subProcess>
    <bpmn:scriptTask id="count" scriptFormat="python"><bpmn:incoming>f_count</bpmn:incoming>
      <bpmn:outgoing>f_gw</bpmn:outgoing><bpmn:script>rounds = rounds + 1</bpmn:script></bpmn:scriptTask>
    <bpmn:exclusiveGateway id="more" default="f_end"><bpmn:incoming>f_gw</bpmn:incoming>
      <bpmn:outgoing>f_back</bpmn:outgoing><bpmn:outgoing>f_end</bpmn:outgoing></bpmn:exclusiveGateway>
    <bpmn:endEvent id="end"><bpmn:incoming>f_end</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="setup" />
    <bpmn:sequenceFlow id="f2" sourceRef="setup" targetRef="again" />
    <bpmn:sequenceFlow id="f3" sourceRef="again" targetRef="fork" />
    <bpmn:sequenceFlow id="f_a" sourceRef="fork" targetRef="a" />
    <bpmn:sequenceFlow id="f_b" sourceRef="fork" targetRef="b" />
    <bpmn:sequenceFlow id="f_a_done" sourceRef="a" targetRef="a_merge" />
    <bpmn:sequenceFlow id="f_late" sourceRef="a_timeout" targetRef="a_late" />
    <bpmn:sequenceFlow id="f_late_done" sourceRef="a_late" targetRef="a_merge" />
    <bpmn:sequenceFlow id="f_a_join" sourceRef="a_merge" targetRef="join" />
    <bpmn:sequenceFlow id="f_b_join" sourceRef="b" targetRef="join" />
    <bpmn:sequenceFlow id="f_sub" sourceRef="join" targetRef="sub" />
    <bpmn:sequenceFlow id="f_count" sourceRef="sub" targetRef="count" />
    <bpmn:sequenceFlow id="f_gw" sourceRef="count" targetRef="more" />
    <bpmn:sequenceFlow id="f_back" sourceRef="more" targetRef="again">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">rounds &lt; limit and first_seen == "early"</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f_end" sourceRef="more" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>
"""


@pytest.fixture(scope="module")
def complaint_diagram() -> Diagram:
    dmn = {"triage_v1.dmn": (DIAGRAMS / "triage_v1.dmn").read_bytes()}
    return parse_diagram((DIAGRAMS / "complaint_v1.bpmn").read_bytes(), dmn, set(QUEUES), "complaint_v1.bpmn")


@pytest.fixture(scope="module")
def rounds_diagram() -> Diagram:
    return parse_diagram(ROUNDS_BPMN, {}, set(QUEUES), "rounds.bpmn")


class Case:
    """One case as the service layer keeps it: only the stored state survives between steps."""

    def __init__(self, engine: Engine, diagram: Diagram, data: dict[str, Any]):
        self.engine, self.diagram = engine, diagram
        workflow = engine.create(diagram, data)
        engine.advance(workflow)
        self.state = engine.dump(workflow)
        self.seconds = 0.0  # the last step: restore + act + dump

    def step(self, action: Callable[[Any], None]) -> None:
        started = time.perf_counter()
        workflow = self.engine.restore(self.diagram, self.state)
        action(workflow)
        self.state = self.engine.dump(workflow)
        self.seconds = time.perf_counter() - started

    def workflow(self):
        return self.engine.restore(self.diagram, self.state)

    def ready(self) -> dict[str, ReadyTask]:
        return {task.info.element_id: task for task in self.engine.ready_tasks(self.workflow(), self.diagram)}

    def elements(self) -> list[str]:
        return self.engine.current_elements(self.workflow())

    def complete(self, element: str, data: dict[str, Any]) -> None:
        task = self.ready()[element]
        self.step(lambda workflow: self.engine.complete(workflow, task.id, data))

    def tick(self) -> None:
        self.step(self.engine.advance)

    @property
    def size(self) -> int:
        return len(json.dumps(self.state, ensure_ascii=False))


def start_complaint(clock: MovableClock, diagram: Diagram) -> Case:
    return Case(Engine(clock), diagram, {"complaint": COMPLAINT, "policy": POLICY})


def reply_and_call_back(case: Case, clock: MovableClock, round_no: int, satisfied: bool) -> None:
    """From the reply task to the callback's answer; a reopen leaves the case at handle_ops."""
    case.complete("reply", {"reply_text": f"reply {round_no}", "customer_agreed": satisfied})
    assert case.elements() == ["wait_callback"]
    clock.advance(CALLBACK_WAIT)
    case.tick()
    assert case.elements() == ["callback"], f"round {round_no}"
    case.complete("callback", {"satisfied": satisfied})


def test_the_state_at_the_first_task_is_small(clock, complaint_diagram):
    case = start_complaint(clock, complaint_diagram)

    assert case.elements() == ["handle_floor", "handle_floor_timeout"]
    assert case.size < 8 * 1024
    print(f"\nstate at the first task: {case.size} bytes")


def test_a_case_reopened_150_times_still_advances_and_closes(clock, complaint_diagram):
    case = start_complaint(clock, complaint_diagram)
    case.complete("handle_floor", {"outcome": "resolved", "resolution": "refund"})
    sizes, times = {0: case.size}, {}

    for round_no in range(1, 151):
        reply_and_call_back(case, clock, round_no, satisfied=False)
        assert case.elements() == ["handle_ops"], f"round {round_no}"
        case.complete("handle_ops", {"resolution": f"resolution {round_no}"})
        assert case.elements() == ["reply"]
        sizes[round_no], times[round_no] = case.size, case.seconds

    reply_and_call_back(case, clock, 151, satisfied=True)
    workflow = case.workflow()
    assert case.engine.is_completed(workflow)
    assert case.engine.ready_tasks(workflow, complaint_diagram) == []
    final = case.engine.data(workflow)
    assert final["satisfied"] is True and final["resolution"] == "resolution 150"
    assert final["complaint"] == COMPLAINT and final["outcome"] == "resolved"

    print("\nrounds  state bytes  step ms (restore + complete handle_ops + dump)")
    for round_no in (1, 5, 20, 50, 150):
        print(f"{round_no:6d}  {sizes[round_no]:11d}  {times[round_no] * 1000:7.2f}")
    assert sizes[20] <= 2 * sizes[1]
    assert sizes[150] <= 2 * sizes[1]


def test_data_set_early_is_seen_by_later_tasks(clock, complaint_diagram):
    case = start_complaint(clock, complaint_diagram)
    case.complete("handle_floor", {"outcome": "resolved", "resolution": "refund"})
    for round_no in range(1, 21):
        reply_and_call_back(case, clock, round_no, satisfied=False)
        data = case.ready()["handle_ops"].data
        # the start data, the DMN's output, the first handler's form, the last round's form
        assert data["complaint"] == COMPLAINT and data["policy"] == POLICY
        assert data["queue"] == "floor_supervisor" and data["outcome"] == "resolved"
        assert data["reply_text"] == f"reply {round_no}" and data["satisfied"] is False
        assert data["resolution"] == ("refund" if round_no == 1 else f"resolution {round_no - 1}")
        case.complete("handle_ops", {"resolution": f"resolution {round_no}"})


def test_the_boundary_timer_on_handle_floor_still_fires(clock, complaint_diagram):
    case = start_complaint(clock, complaint_diagram)
    due = case.ready()["handle_floor"].due_at
    assert due == clock.now() + timedelta(seconds=POLICY["handler_acts_within_seconds"])
    assert case.engine.next_due(case.workflow()) == due

    clock.advance(timedelta(hours=23))
    case.tick()
    assert case.elements() == ["handle_floor", "handle_floor_timeout"]
    clock.advance(timedelta(hours=1, seconds=1))
    case.tick()

    assert case.elements() == ["handle_ops"]
    assert case.ready()["handle_ops"].data["queue"] == "floor_supervisor"
    case.complete("handle_ops", {"resolution": "escalated"})
    for round_no in range(1, 6):
        reply_and_call_back(case, clock, round_no, satisfied=False)
        case.complete("handle_ops", {"resolution": f"resolution {round_no}"})
    reply_and_call_back(case, clock, 6, satisfied=True)
    assert case.engine.is_completed(case.workflow())


def test_a_stored_case_runs_as_one_never_stored(clock, complaint_diagram):
    """The same steps on a workflow kept in memory (the library's own behaviour, no compaction)."""
    engine = Engine(clock)
    live = engine.create(complaint_diagram, {"complaint": COMPLAINT, "policy": POLICY})
    engine.advance(live)
    state = engine.dump(live)

    def both(action: Callable[[Any], None]) -> None:
        nonlocal state
        stored = engine.restore(complaint_diagram, state)
        action(live)
        action(stored)
        state = engine.dump(stored)
        assert (
            _view(engine, live)
            == _view(engine, stored)
            == _view(engine, engine.restore(complaint_diagram, state))
        )

    def complete(element: str, data: dict[str, Any]) -> None:
        both(
            lambda workflow: engine.complete(
                workflow, _ready_id(engine, workflow, complaint_diagram, element), data
            )
        )

    complete("handle_floor", {"outcome": "escalate"})
    for round_no in range(30):
        complete("handle_ops", {"resolution": f"resolution {round_no}"})
        complete("reply", {"reply_text": "sorry", "customer_agreed": False})
        clock.advance(CALLBACK_WAIT)
        both(engine.advance)
        complete("callback", {"satisfied": round_no == 29})
    assert engine.is_completed(live)
    assert engine.data(live) == engine.data(engine.restore(complaint_diagram, state))


def test_a_loop_through_a_parallel_join_a_subprocess_and_a_boundary_timer(clock, rounds_diagram):
    """Each round: b, then a (or a's timer fires), then the subprocess's task; a gateway reads
    data set before the first round. Compared step by step with a workflow never stored."""
    engine = Engine(clock)
    limit = 40
    live = engine.create(rounds_diagram, {"limit": limit})
    engine.advance(live)
    case = Case(engine, rounds_diagram, {"limit": limit})
    sizes = {}

    def both(action: Callable[[Any], None]) -> None:
        action(live)
        case.step(action)
        assert _view(engine, live) == _view(engine, case.workflow())

    def complete(element: str, round_no: int) -> Callable[[Any], None]:
        return lambda workflow: engine.complete(
            workflow, _any_ready_id(workflow, element), {element: round_no}
        )

    for round_no in range(limit):
        assert case.elements() == ["a", "a_timeout", "b"], f"round {round_no}"
        both(complete("b", round_no))
        if round_no % 3 == 1:
            clock.advance(timedelta(hours=1, seconds=1))
            both(engine.advance)  # a is cancelled; a_late counts it
        else:
            both(complete("a", round_no))
        assert case.elements() == ["sub_work"]
        data = _ready_data(case.workflow(), "sub_work")
        assert data["first_seen"] == "early" and data["rounds"] == round_no
        assert data["lates"] == (round_no + 2) // 3  # the timer fired in rounds 1, 4, 7 …
        both(complete("sub_work", round_no))
        sizes[round_no + 1] = case.size
        assert len(case.state["subprocesses"]) <= 1

    workflow = case.workflow()
    assert engine.is_completed(workflow) and engine.is_completed(live)
    assert engine.data(workflow)["rounds"] == limit
    assert engine.data(workflow)["lates"] == (limit + 1) // 3
    assert sizes[20] <= 2 * sizes[1] and sizes[40] <= 2 * sizes[1]


def test_a_state_stored_before_compaction_is_compacted_when_restored(clock, complaint_diagram):
    engine = Engine(clock)
    live = engine.create(complaint_diagram, {"complaint": COMPLAINT, "policy": POLICY})
    engine.advance(live)
    _run(engine, live, complaint_diagram, "handle_floor", {"outcome": "resolved"})
    for round_no in range(30):
        _run(engine, live, complaint_diagram, "reply", {"reply_text": "sorry", "customer_agreed": False})
        clock.advance(CALLBACK_WAIT)
        engine.advance(live)
        _run(engine, live, complaint_diagram, "callback", {"satisfied": False})
        _run(engine, live, complaint_diagram, "handle_ops", {"resolution": f"resolution {round_no}"})
    full = engine.serializers["camunda"].to_dict(
        live
    )  # what dump stored before compaction: all of the history
    full = json.loads(json.dumps(full, default=str))

    stored = json.dumps(full)
    restored = engine.restore(complaint_diagram, full)
    assert json.dumps(full) == stored  # restoring leaves the stored state as it was
    assert _view(engine, restored) == _view(engine, live)
    compacted = engine.dump(restored)
    assert len(compacted["tasks"]) < len(full["tasks"]) / 10

    _run(engine, restored, complaint_diagram, "reply", {"reply_text": "sorry", "customer_agreed": True})
    clock.advance(CALLBACK_WAIT)
    engine.advance(restored)
    _run(engine, restored, complaint_diagram, "callback", {"satisfied": True})
    assert engine.is_completed(restored)
    assert engine.data(restored)["resolution"] == "resolution 29"


def test_restoring_does_not_depend_on_the_order_of_the_stored_keys(clock, complaint_diagram):
    """Not needed for a json column, which keeps the order; restore sorts the tasks parents first
    (each task's data is a delta against its parent's), so jsonb or sorted keys would do too."""
    case = start_complaint(clock, complaint_diagram)
    case.complete("handle_floor", {"outcome": "resolved", "resolution": "refund"})
    for round_no in range(1, 4):
        reply_and_call_back(case, clock, round_no, satisfied=False)
        case.complete("handle_ops", {"resolution": f"resolution {round_no}"})
    expected = _view(case.engine, case.workflow())

    shuffled = json.loads(json.dumps(case.state, sort_keys=True))
    shuffled["tasks"] = dict(reversed(list(shuffled["tasks"].items())))
    case.state = shuffled

    assert _view(case.engine, case.workflow()) == expected
    reply_and_call_back(case, clock, 4, satisfied=True)
    assert case.engine.is_completed(case.workflow())


def _view(engine: Engine, workflow) -> tuple:
    """What the service layer sees of a workflow: open tasks with their data, due time, completion."""
    tasks = sorted(
        (task.task_spec.bpmn_id, task.state, json.dumps(task.data, sort_keys=True, default=str))
        for task in workflow.get_tasks(state=TaskState.READY | TaskState.WAITING)
    )
    return tasks, engine.current_elements(workflow), engine.next_due(workflow), engine.is_completed(workflow)


def _ready_id(engine: Engine, workflow, diagram: Diagram, element: str) -> str:
    return next(task.id for task in engine.ready_tasks(workflow, diagram) if task.info.element_id == element)


def _any_ready_id(workflow, element: str) -> str:
    """Also finds user tasks inside subprocesses, which `ready_tasks` does not list."""
    return next(
        str(task.id)
        for task in workflow.get_tasks(state=TaskState.READY, manual=True)
        if task.task_spec.bpmn_id == element
    )


def _ready_data(workflow, element: str) -> dict[str, Any]:
    return next(t.data for t in workflow.get_tasks(state=TaskState.READY) if t.task_spec.bpmn_id == element)


def _run(engine: Engine, workflow, diagram: Diagram, element: str, data: dict[str, Any]) -> None:
    engine.complete(workflow, _ready_id(engine, workflow, diagram, element), data)


@pytest.mark.parametrize("diagram", ["complaint_diagram", "rounds_diagram"])
def test_a_dump_is_the_librarys_state_without_its_specs(clock, diagram, request):
    """The engine converts a workflow without its specs instead of converting them to drop them:
    what it writes is what the library writes, less `spec` and `subprocess_specs` (before compaction)."""
    diagram = request.getfixturevalue(diagram)
    engine = Engine(clock)
    workflow = engine.create(diagram, {"complaint": COMPLAINT, "policy": POLICY, "limit": 2})
    engine.advance(workflow)
    library = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(_timer_config())).to_dict(workflow)
    assert library.pop("spec") and library.pop("subprocess_specs") is not None
    ours = engine._serializer(workflow.spec).to_dict(workflow)
    assert "spec" not in ours and "subprocess_specs" not in ours
    assert json.dumps(ours, sort_keys=True, default=str) == json.dumps(library, sort_keys=True, default=str)


def _timer_config() -> dict:
    config = deepcopy(CAMUNDA_CONFIG)
    for timer in (ClockDurationTimer, ClockTimeDateTimer, ClockCycleTimer):
        config[timer] = TimerConditionalEventDefinitionConverter
    return config
