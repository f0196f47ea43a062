"""The engine façade: start, restore, advance and serialize one diagram's workflows."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from copy import deepcopy
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnEvent, BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.event_definition import TimerConditionalEventDefinitionConverter
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.bpmn.specs.event_definitions.message import (
    MessageEventDefinition as BpmnMessageEventDefinition,
)
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    TimeDateEventDefinition,
    TimerEventDefinition,
)
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import BoundaryEvent
from SpiffWorkflow.camunda.serializer import DEFAULT_CONFIG as CAMUNDA_CONFIG
from SpiffWorkflow.camunda.specs.event_definitions import MessageEventDefinition
from SpiffWorkflow.exceptions import TaskNotFoundException, WorkflowException
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.spiff.specs.spiff_task import SpiffBpmnTask
from SpiffWorkflow.util.task import TaskState

from services.common.clock import Clock
from services.routing.engine import migration
from services.routing.engine.compaction import compact
from services.routing.engine.parser import Diagram, UserTaskInfo
from services.routing.engine.scripts import ClockScriptEngine, restricted_environment
from services.routing.engine.timers import (
    ClockCycleTimer,
    ClockDurationTimer,
    ClockTimeDateTimer,
    due_time,
)


class EngineError(Exception):
    """A step the engine could not take (a failing script or expression); names the element."""

    def __init__(self, message: str, element: str | None = None):
        super().__init__(message)
        self.element = element


@dataclass(frozen=True)
class CompletedElement:
    """A diagram element a step went through, with what the designer attached to it."""

    element_id: str
    name: str | None
    lane: str | None
    extensions: dict[str, Any]
    data: dict[str, Any]


@dataclass(frozen=True)
class ReadyTask:
    """A user task waiting for a person: the engine's task id and what the diagram says of it."""

    id: str
    info: UserTaskInfo
    data: dict[str, Any]
    due_at: datetime | None = None  # when a boundary timer on the task falls due


@dataclass(frozen=True)
class PendingTimer:
    """A timer the case waits on: what an operator sees before firing or moving it."""

    id: str  # the engine's task id, stable while the timer waits
    element_id: str
    name: str | None
    due_at: datetime | None
    attached_to: str | None  # the task a boundary timer sits on
    interrupting: bool  # a boundary timer that ends its task when it fires


class _StateConverter(BpmnWorkflowConverter):
    """The library's workflow converter, leaving out the specs: they are stored once per deployed
    version and put back on restore, so converting them on every dump (two thirds of its cost on the
    shipped diagram) only to drop them is skipped. What it writes is the library's dict without
    `spec` and `subprocess_specs`."""

    def to_dict(self, workflow):
        dct = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct


def _serializer(base_config) -> BpmnWorkflowSerializer:
    """The library's converters for one flavour of diagram (Camunda's or spiff-arena's), with our
    timers, converting a workflow's state without its specs."""
    config = deepcopy(base_config)
    config[BpmnWorkflow] = _StateConverter
    config[ClockDurationTimer] = TimerConditionalEventDefinitionConverter
    config[ClockTimeDateTimer] = TimerConditionalEventDefinitionConverter
    config[ClockCycleTimer] = TimerConditionalEventDefinitionConverter
    return BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(config))


class Engine:
    """Runs workflows on the host's clock in the restricted script environment.

    `cpu_limit` and `on_script` are for a sandbox process (see `sandbox`): the kernel ends the
    process when a script uses too much CPU, and `on_script` is told each element before it runs.
    """

    def __init__(self, clock: Clock, cpu_limit: bool = False, on_script=None):
        self.clock = clock
        self.cpu_limit = cpu_limit
        self.on_script = on_script
        self.serializers = {"camunda": _serializer(CAMUNDA_CONFIG), "spiff": _serializer(SPIFF_CONFIG)}

    def _script_engine(self) -> ClockScriptEngine:
        environment = restricted_environment(cpu_limit=self.cpu_limit, clock=self.clock)
        return ClockScriptEngine(self.clock, environment, self.on_script)

    def _serializer(self, spec) -> BpmnWorkflowSerializer:
        """spiff-arena's specs need its converters (they share class names with Camunda's)."""
        spiff = any(isinstance(task_spec, SpiffBpmnTask) for task_spec in spec.task_specs.values())
        return self.serializers["spiff" if spiff else "camunda"]

    def create(self, diagram: Diagram, data: dict[str, Any]) -> BpmnWorkflow:
        """A new workflow holding `data`, not yet run: `advance` takes its first steps."""
        workflow = BpmnWorkflow(diagram.spec, diagram.subprocess_specs, script_engine=self._script_engine())
        workflow.task_tree.data.update(deepcopy(data))  # data on the root task reaches every task
        return workflow

    def dump(self, workflow: BpmnWorkflow) -> dict[str, Any]:
        """The workflow's state without its specs, which are stored once per deployed version.

        Finished history the engine no longer reads is left out (see `compaction`), so the state
        and the cost of a step stay the same however often a case loops. The workflow object
        itself is not changed.
        """
        return json.loads(self.dump_text(workflow))

    def dump_text(self, workflow: BpmnWorkflow) -> str:
        """`dump` as the JSON text that is stored: a step hands its state back as text, which the
        worker stores as it is (no dictionary to pass between processes, no second encoding)."""
        state = self._serializer(workflow.spec).to_dict(workflow)
        state = compact(state, workflow.spec, workflow.subprocess_specs)
        return json.dumps(state, default=str)

    def restore(self, diagram: Diagram, state: dict[str, Any] | str) -> BpmnWorkflow:
        """The workflow of a stored state (its dictionary, or the JSON text as stored)."""
        # Compacting again is a no-op on what `dump` wrote; it shrinks a state stored before
        # compaction existed and puts parents before children whatever order the keys came in.
        document = compact(state_dict(state), diagram.spec, diagram.subprocess_specs)
        document["spec"], document["subprocess_specs"] = diagram.spec, diagram.subprocess_specs
        workflow = self._serializer(diagram.spec).from_dict(document)
        workflow.script_engine = self._script_engine()
        return workflow

    def advance(self, workflow: BpmnWorkflow) -> None:
        """Run every automatic step (scripts, gateways, due timers) up to the next wait state."""
        with _engine_errors():
            workflow.refresh_timers()
            workflow.do_engine_steps()
            workflow.refresh_timers()  # a timer made ready by the steps runs now, not at the next call
            workflow.do_engine_steps()

    def correct_data(self, workflow: BpmnWorkflow, data: dict[str, Any]) -> None:
        """Merge corrected data into the tasks about to run (a failed step retried, the complaint
        corrected at the desk). A waiting date timer is computed from data (a reply date, say), so
        it is computed again from the corrected data when the workflow next advances; a duration
        timer keeps running from when it started."""
        pending = workflow.get_tasks(state=TaskState.READY | TaskState.WAITING)
        for task in pending or [workflow.task_tree]:
            task.data.update(deepcopy(data))
            if isinstance(getattr(task.task_spec, "event_definition", None), TimeDateEventDefinition):
                task.internal_data.pop("event_value", None)
                # A waiting event takes its parent's data again each time it is checked.
                task.parent.data.update(deepcopy(data))

    def complete(self, workflow: BpmnWorkflow, task_id: str, data: dict[str, Any]) -> None:
        task = workflow.get_task_from_id(_uuid(task_id))
        if task is None or task.state != TaskState.READY:
            raise EngineError("the task is not waiting for completion")
        with _engine_errors():
            task.data.update(deepcopy(data))
            task.run()
        self.advance(workflow)

    def deliver_message(
        self, workflow: BpmnWorkflow, name: str, payload: dict[str, Any], result_var: str
    ) -> bool:
        """Hand a message to the catch event waiting for it; False when none waits yet."""
        event = BpmnEvent(
            MessageEventDefinition(name), payload={"payload": payload, "result_var": result_var}
        )
        try:
            workflow.send_event(event)
        except WorkflowException as exc:
            if "not waiting" in str(exc):
                return False
            raise EngineError(str(exc)) from exc
        self.advance(workflow)
        return True

    def live_tasks(self, workflow: BpmnWorkflow) -> list:
        """The ready and waiting tasks, in the library's order: what the questions below read, so a
        step that asks several of them walks the task tree once (`live=`)."""
        return workflow.get_tasks(state=TaskState.READY | TaskState.WAITING)

    def ready_tasks(
        self, workflow: BpmnWorkflow, diagram: Diagram, live: list | None = None
    ) -> list[ReadyTask]:
        return [
            ReadyTask(
                str(task.id), diagram.user_tasks[task.task_spec.bpmn_id], dict(task.data), _boundary_due(task)
            )
            for task in _in_state(workflow, live, TaskState.READY)
            if task.task_spec.manual and task.task_spec.bpmn_id in diagram.user_tasks
        ]

    def completed_since(self, workflow: BpmnWorkflow, since: float) -> list[CompletedElement]:
        """Diagram elements completed since `since` (a time.time() taken before the step).

        A cycle timer occurs each time it starts its outgoing path again (a child completed since),
        not when its last cycle is spent: each occurrence is an element passed, announced as such.
        """
        recent = [
            task for task in workflow.get_tasks(state=TaskState.COMPLETED) if task.last_state_change >= since
        ]
        passed = [(task.last_state_change, task) for task in recent if not _is_cycle(task)]
        # The library's task iterator does not go below a waiting task: a cycle's runs are read directly.
        every = [
            *workflow.tasks.values(),
            *(task for sub in workflow.subprocesses.values() for task in sub.tasks.values()),
        ]
        passed += [
            (task.last_state_change, task.parent)
            for task in every
            if task.parent is not None
            and _is_cycle(task.parent)
            and task.state == TaskState.COMPLETED
            and task.last_state_change >= since
        ]
        passed.sort(key=lambda pair: pair[0])
        return [
            CompletedElement(
                task.task_spec.bpmn_id,
                task.task_spec.bpmn_name,
                task.task_spec.lane,
                dict(getattr(task.task_spec, "extensions", None) or {}),
                dict(task.data),
            )
            for _, task in passed
            if task.task_spec.bpmn_id
        ]

    def next_due(self, workflow: BpmnWorkflow, live: list | None = None) -> datetime | None:
        """The earliest due time of the workflow's waiting timers."""
        times = [due_time(task) for task in _in_state(workflow, live, TaskState.WAITING)]
        known = [moment for moment in times if moment is not None]
        return min(known) if known else None

    def migration_gaps(self, state: dict[str, Any] | str, target: Diagram) -> dict[str, bool]:
        """Elements a stored case holds that `target` lacks ({id: whether it waits there}): it can
        move to `target` when there are none (see `migration`)."""
        return migration.gaps(state_dict(state), target.spec, target.subprocess_specs)

    def migrate(self, state: dict[str, Any] | str, target: Diagram) -> dict[str, Any]:
        """The stored case as a case of `target`: the same tasks, data and timers, and what comes
        after them predicted from `target`'s flows where the old predictions had no counterpart."""
        retargeted, orphaned = migration.retarget(state_dict(state), target.spec, target.subprocess_specs)
        workflow = self.restore(target, retargeted)
        for task_id in orphaned:
            task = workflow.get_task_from_id(UUID(task_id))
            task.task_spec._predict(task, mask=TaskState.NOT_FINISHED_MASK)
        return self.dump(workflow)

    def pending_timers(self, workflow: BpmnWorkflow, live: list | None = None) -> list[PendingTimer]:
        """The timers the workflow waits on, soonest first."""
        timers = [
            _pending_timer(task) for task in _in_state(workflow, live, TaskState.WAITING) if _is_timer(task)
        ]
        return sorted(
            timers, key=lambda timer: (timer.due_at is None, timer.due_at or datetime.min, timer.id)
        )

    def timer_state(self, workflow: BpmnWorkflow, timer_id: str) -> str:
        """`pending`, `done` (it fired or its task ended) or `unknown` (no timer of this workflow)."""
        task = _task_or_none(workflow, timer_id)
        if task is None or not _is_timer(task):
            return "unknown"
        return "pending" if task.state == TaskState.WAITING else "done"

    def move_timer(self, workflow: BpmnWorkflow, timer_id: str, due: datetime) -> None:
        """Make a waiting timer fall due at `due`; `advance` then fires it if that is not later than now.

        The timer keeps its due time as the engine computed it the first time (see `timers`), so
        setting it is all a move takes; nothing of the diagram is evaluated again.
        """
        task = _task_or_none(workflow, timer_id)
        if task is None or not _is_timer(task) or task.state != TaskState.WAITING:
            raise EngineError("the timer is not pending")
        value = task.internal_data.get("event_value")
        if isinstance(value, dict):  # a cycle: its next time moves, its count stays
            task._set_internal_data(event_value={**value, "next": due.isoformat()})
        else:
            task._set_internal_data(event_value=due.isoformat(), event_fired=False)

    def waiting_messages(self, workflow: BpmnWorkflow) -> list[str]:
        """The names of the messages the workflow's catch events wait for."""
        return sorted(
            {
                event.name
                for task in workflow.get_tasks(state=TaskState.WAITING)
                for event in _events_of(task, BpmnMessageEventDefinition)
            }
        )

    def reached_elements(self, workflow: BpmnWorkflow) -> set[str]:
        """Diagram elements the workflow has passed or is at (those its stored history still holds)."""
        reached = TaskState.COMPLETED | TaskState.READY | TaskState.WAITING | TaskState.STARTED
        return {
            task.task_spec.bpmn_id for task in workflow.get_tasks(state=reached) if task.task_spec.bpmn_id
        }

    def current_elements(self, workflow: BpmnWorkflow, live: list | None = None) -> list[str]:
        """Diagram elements the case is at: ready or waiting tasks."""
        tasks = self.live_tasks(workflow) if live is None else live
        return sorted({task.task_spec.bpmn_id for task in tasks if task.task_spec.bpmn_id})

    def is_completed(self, workflow: BpmnWorkflow) -> bool:
        return workflow.is_completed()

    def data(self, workflow: BpmnWorkflow) -> dict[str, Any]:
        return dict(workflow.data if workflow.is_completed() else workflow.task_tree.data)


def _in_state(workflow: BpmnWorkflow, live: list | None, state: int) -> list:
    """The tasks in `state` (READY or WAITING), from `live` when the caller walked the tree already:
    the library walks ready and waiting tasks alike, so filtering its one list gives the same tasks
    in the same order."""
    if live is None:
        return workflow.get_tasks(state=state)
    return [task for task in live if task.state == state]


def _is_cycle(task) -> bool:
    return isinstance(getattr(task.task_spec, "event_definition", None), CycleTimerEventDefinition)


def _is_timer(task) -> bool:
    return bool(_events_of(task, TimerEventDefinition))


def _events_of(task, kind) -> list:
    """The task's event definitions of a kind: its own, or those an event-based gateway waits for."""
    definition = getattr(task.task_spec, "event_definition", None)
    return [
        event
        for event in [definition, *getattr(definition, "event_definitions", [])]
        if isinstance(event, kind)
    ]


def _pending_timer(task) -> PendingTimer:
    spec = task.task_spec
    attached = None
    if isinstance(spec, BoundaryEvent) and task.parent is not None:
        # A boundary event's siblings are its task and the task's other boundary events.
        hosts = [
            sibling for sibling in task.parent.children if not isinstance(sibling.task_spec, BoundaryEvent)
        ]
        attached = hosts[0].task_spec.bpmn_id if hosts else None
    return PendingTimer(
        id=str(task.id),
        element_id=spec.bpmn_id,
        name=spec.bpmn_name,
        due_at=due_time(task),
        attached_to=attached,
        interrupting=bool(getattr(spec, "cancel_activity", False)),
    )


def _task_or_none(workflow: BpmnWorkflow, task_id: str):
    try:
        return workflow.get_task_from_id(UUID(task_id))
    except (ValueError, TaskNotFoundException):
        return None


def _boundary_due(task) -> datetime | None:
    """The earliest timer waiting beside the task: its boundary events share the task's parent."""
    siblings = task.parent.children if task.parent is not None else []
    times = [due_time(sibling) for sibling in siblings if sibling.state == TaskState.WAITING]
    known = [moment for moment in times if moment is not None]
    return min(known) if known else None


@contextlib.contextmanager
def _engine_errors() -> Iterator[None]:
    """Turn whatever a step raised (a script's own error included) into EngineError naming the element."""
    try:
        yield
    except EngineError:
        raise
    except Exception as exc:
        task = getattr(exc, "task", None)
        spec = getattr(task, "task_spec", None) or getattr(
            exc, "task_spec", None
        )  # a spec's own error names only it
        element = getattr(spec, "bpmn_id", None)
        text = str(exc).strip()
        text = text[:-1] if text.endswith("..") else text  # the library's errors add ". " to their own stop
        raise EngineError(f"{type(exc).__name__}: {text}", element) from exc


def _uuid(task_id: str) -> UUID:
    try:
        return UUID(task_id)
    except ValueError as exc:
        raise EngineError("not a task id") from exc


def state_dict(state: dict[str, Any] | str) -> dict[str, Any]:
    """A stored state as a dictionary, from the JSON text routing's tables and steps hand around."""
    return json.loads(state) if isinstance(state, str) else state
