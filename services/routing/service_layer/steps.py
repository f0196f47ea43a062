"""One step of a case: run it in the sandbox, mirror its tasks, save — in the caller's transaction.

A step that raises leaves the stored workflow as it was: the case is marked as having an incident,
the error is kept, and the step can be retried once the cause is fixed.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from datetime import datetime
from typing import Any

from services.common.bus.envelope import Actor, Envelope, event
from services.common.bus.events import NOTIFICATION_REQUESTED, TASK_CANCELLED, TASK_CREATED
from services.common.bus.topology import NOTICE_TO_DEPARTMENT, task_routing_key
from services.routing.adapters.cases import CaseRow, CaseSummary
from services.routing.domain.model import COMPLETED_IN_QUEUE, CaseStatus, Task, TaskState
from services.routing.engine import CompletedElement, EngineError, ReadyTask
from services.routing.engine.step_request import Step, StepResult, WaitingMessage
from services.routing.metrics import ENGINE_STEP_SECONDS
from services.routing.service_layer.context import Context
from services.routing.service_layer.unit_of_work import UnitOfWork

SYSTEM = Actor(id="routing", role="service")
# Workflow data the whole case shares; announcements carry only what the step added.
HIDDEN_DATA = frozenset({"complaint", "policy"})


def advance_case(
    uow: UnitOfWork,
    context: Context,
    case: CaseRow,
    step: Step,
    actor: Actor,
    name: str,
    completing: str | None = None,
    announced: frozenset[str] = frozenset(),
) -> bool:
    """Take `step` on the case's workflow and store the result; False if it raised (incident).

    Messages that arrived before the case waited for them go with the step, to be handed over
    once the case is at their catch event. `completing` is the task the step completes, whose
    close the caller writes with the step's rows: it is no longer one of the case's open tasks.
    `announced`: elements whose announcements went out when the step first failed (a retry's).
    """
    # The kind of step only (`message`, not `message <name>`): a label must stay a small set.
    with ENGINE_STEP_SECONDS.labels(name.split(" ", 1)[0]).time():
        source = context.diagrams.source(case.process_version_id, uow.processes.get)
        now = context.clock.now()
        found, open_rows = uow.before_step(case.id, now)
        open_rows = [row for row in open_rows if row.id != completing]
        waiting = {str(row["id"]): row for row in found}
        messages = tuple(WaitingMessage(key, row["name"], row["payload"]) for key, row in waiting.items())
        try:
            result = context.sandbox.run(
                source, replace(step, messages=messages, shared_keys=HIDDEN_DATA), now
            )
        except EngineError as exc:
            record_incident(uow, context, case, name, exc, held_completion(step, actor), announced)
            return False
        store(uow, context, case, result, waiting, actor, open_rows, announced)
        return True


def start_new_case(
    uow: UnitOfWork,
    context: Context,
    case: CaseRow,
    data: dict[str, Any],
    started_by: Actor,
    started: dict[str, Any],
) -> bool:
    """Take a new case's first steps, then insert the case as they left it, with its first tasks
    and events; False when the complaint has a case already (nothing else is written then).

    A new case has no task rows and no waiting messages yet (a message needs its case), so neither
    is read; the case row is written once, with its state, rather than inserted empty and updated.
    """
    with ENGINE_STEP_SECONDS.labels("start").time():
        source = context.diagrams.source(case.process_version_id, uow.processes.get)
        now = context.clock.now()
        result, failure = None, None
        try:
            result = context.sandbox.run(source, Step(state=None, data=data, shared_keys=HIDDEN_DATA), now)
        except EngineError as exc:
            failure = exc
            # Kept as it was before its first steps, to be retried. (A new workflow runs none of
            # the diagram's Python, so this needs no sandbox.)
            diagram = context.diagrams.get(case.process_version_id, uow.processes.get)
            case.state = context.engine.dump(context.engine.create(diagram, data))
        else:
            _take(case, result, now)
        if not uow.cases.add(case):
            return False
        with uow.deferred():
            uow.cases.add_timeline(
                case.id, now, started_by.id, started_by.role, "case_started", None, None, started
            )
            if failure is not None:
                # The start event's acknowledgement goes out now, not when the case is repaired
                # (hours, perhaps); the incident keeps that it did, so the retry does not repeat it.
                started = [CompletedElement(*event, {}) for event in diagram.start_events()]
                announce_steps(uow, context, case, started, SYSTEM)
                announced = frozenset(element.element_id for element in started)
                record_incident(uow, context, case, "start", failure, announced=announced)
            else:
                mirror(uow, context, case, result, {}, SYSTEM, open_rows=[])
        return True


def store(
    uow: UnitOfWork,
    context: Context,
    case: CaseRow,
    result: StepResult,
    waiting: dict[str, Any],
    actor: Actor,
    open_rows: list[Task],
    announced: frozenset[str] = frozenset(),
) -> None:
    """Note the messages handed over, announce what the step passed (but what was `announced`
    already), mirror the ready tasks (the case's open rows as they were read before the step), save
    state and next due time: one statement (`deferred`)."""
    with uow.deferred():
        _take(case, result, context.clock.now())
        if announced:
            result = replace(result, completed=[e for e in result.completed if e.element_id not in announced])
        mirror(uow, context, case, result, waiting, actor, open_rows)
        uow.cases.save(case)


def _take(case: CaseRow, result: StepResult, now: datetime) -> None:
    """The case as the step left it: state, next timer, elements passed, completed or not."""
    case.visited = sorted(set(case.visited) | {element.element_id for element in result.completed})
    case.state = result.state
    case.current_elements = result.current
    case.pending_timers = result.timers
    case.next_due_at = result.next_due
    case.updated_at = now
    if result.finished:
        case.status = CaseStatus.COMPLETED
        case.next_due_at = None


def mirror(
    uow: UnitOfWork,
    context: Context,
    case: CaseRow,
    result: StepResult,
    waiting: dict[str, Any],
    actor: Actor,
    open_rows: list[Task],
) -> None:
    """What the step did, outside the workflow: messages marked delivered, announcements, task rows
    and the timeline."""
    now = context.clock.now()
    for message_id in result.delivered:
        uow.messages.delivered(message_id, now)
        uow.cases.add_timeline(
            case.id,
            now,
            SYSTEM.id,
            SYSTEM.role,
            "message_delivered",
            None,
            None,
            {"name": waiting[message_id]["name"], "buffered": True},
        )
    announce_steps(uow, context, case, result.completed, actor)
    sync_tasks(uow, context, case, result.ready, actor, open_rows)
    if result.finished:
        uow.cases.add_timeline(case.id, case.updated_at, actor.id, actor.role, "case_completed")


def announce_steps(
    uow: UnitOfWork, context: Context, case: CaseRow, completed: list[CompletedElement], actor: Actor
) -> None:
    """Announce the elements passed that the designer marked (`event`, `notify`)."""
    now = context.clock.now()
    for element in completed:
        data = {key: value for key, value in element.data.items() if key not in HIDDEN_DATA}
        if element.extensions.get("event"):
            payload = {
                "number": case.number,
                "element_id": element.element_id,
                "element_name": element.name,
                "queue": element.lane,
                "data": data,
            }
            uow.publish(_envelope(case, element.extensions["event"], payload, actor, now))
            uow.cases.add_timeline(
                case.id, now, actor.id, actor.role, element.extensions["event"], element.element_id
            )
        if element.extensions.get("notify"):
            payload = {
                "kind": element.extensions["notify"],
                "to": element.extensions.get("notify_to"),
                "number": case.number,
                "element_id": element.element_id,
                "data": data,
            }
            field_name = element.extensions.get("notify_department")
            department = element.data.get(field_name) if field_name else None
            if isinstance(department, str) and department:
                # the manager of the department a form named, which reads the case from now on
                payload["department"] = department
                uow.cases.tell_department(case.id, department)
                uow.publish(
                    _envelope(case, NOTIFICATION_REQUESTED, payload, actor, now), NOTICE_TO_DEPARTMENT
                )
            else:
                uow.publish(_envelope(case, NOTIFICATION_REQUESTED, payload, actor, now))


@dataclass(frozen=True)
class CaseRef:
    """Which case an event is about, when nothing else of it is needed (a claim's announcement)."""

    id: str
    mall_id: str


def _envelope(
    case: CaseRow | CaseSummary | CaseRef,
    event_type: str,
    payload: dict[str, Any],
    actor: Actor,
    at: datetime,
) -> Envelope:
    return event(event_type, mall_id=case.mall_id, about=case.id, actor=actor, at=at, payload=payload)


def sync_tasks(
    uow: UnitOfWork,
    context: Context,
    case: CaseRow,
    ready_tasks: list[ReadyTask],
    actor: Actor,
    open_rows: list[Task],
) -> None:
    """New ready user tasks become open rows; open rows the workflow no longer waits on are cancelled."""
    now = context.clock.now()
    ready = {task.id: task for task in ready_tasks}
    for row in open_rows:
        if row.id in ready and ready[row.id].due_at not in (None, row.due_at):
            # A timer on the task was moved. (One that fired and left none keeps the task's due
            # time: the task is overdue.)
            uow.tasks.set_due(row.id, ready[row.id].due_at)
        if row.id not in ready:
            uow.tasks.close(row.id, TaskState.CANCELLED, now, actor.id)
            cancelled = Task(**{**asdict(row), "state": TaskState.CANCELLED})
            announce(uow, case, cancelled, TASK_CANCELLED, actor, now)
            uow.cases.add_timeline(
                case.id, now, actor.id, actor.role, "task_cancelled", row.element_id, row.id
            )
        ready.pop(row.id, None)
    for ready_task in ready.values():
        task = Task(
            id=ready_task.id,
            case_id=case.id,
            mall_id=case.mall_id,
            queue=ready_task.info.queue,
            element_id=ready_task.info.element_id,
            title=ready_task.info.title,
            number=case.number,
            state=TaskState.OPEN,
            created_at=now,
            form=[asdict(field) for field in ready_task.info.form],
            floor=case.floor,
            department=case.department,
            due_at=ready_task.due_at,
            instructions=ready_task.info.instructions,
            titles=ready_task.info.titles,
        )
        uow.tasks.add(task)
        announce(uow, case, task, TASK_CREATED, actor, now)
        uow.cases.add_timeline(
            case.id,
            now,
            actor.id,
            actor.role,
            "task_created",
            task.element_id,
            task.id,
            {"queue": task.queue},
        )


def announce(
    uow: UnitOfWork,
    case: CaseRow | CaseSummary | CaseRef,
    task: Task,
    event_type: str,
    actor: Actor,
    at: datetime,
    data: dict[str, Any] | None = None,
) -> None:
    """Publish a task event to the events exchange, routed to the department's own queue too."""
    payload = {
        "task_id": task.id,
        "queue": task.queue,
        "element_id": task.element_id,
        "title": task.title,
        "titles": task.titles,
        "number": task.number,
        "state": task.state.value,
        "floor": task.floor,
        "department": task.department,
        "assignee": task.assignee,
        "due_at": task.due_at.isoformat() if task.due_at else None,
        "form": task.form,
        "instructions": task.instructions,
        "data": data or {},
    }
    envelope = _envelope(case, event_type, payload, actor, at)
    uow.publish(envelope, task_routing_key(event_type, task.queue))


# Who is told that a case stopped: the operations manager repairs incidents (/console/incidents).
STOPPED_NOTICE = {"kind": "case_stopped", "to": "operations_manager"}


def held_completion(step: Step, actor: Actor) -> dict[str, Any] | None:
    """The completion a failed step carried (its task, who submitted it, the form's data), kept
    with the incident so that the retry after the repair applies it: the handler's submission is
    not lost and nobody has to be found to submit it again."""
    if step.task_id is None:
        return None
    data = {key: value for key, value in step.task_data.items() if key != COMPLETED_IN_QUEUE}
    return {"task_id": step.task_id, "by": actor.id, "data": data}


def record_incident(
    uow: UnitOfWork,
    context: Context,
    case: CaseRow,
    step: str,
    error: EngineError,
    completion: dict[str, Any] | None = None,
    announced: frozenset[str] = frozenset(),
) -> None:
    """The case's one open incident, with this error: a retry that failed again closes the one it
    retried (kept, closed by routing) rather than listing the stopped case twice. A case that
    stops (not one a repairer just retried) is told to the operations manager: nothing else moves it."""
    now = context.clock.now()
    detail: dict[str, Any] = {"element": error.element}
    if completion is not None:
        detail["completion"] = completion
    if announced:
        detail["announced"] = sorted(announced)
    if step == "retry":
        uow.cases.resolve_incidents(case.id, now, SYSTEM.id)
    else:
        notice = {
            **STOPPED_NOTICE,
            "number": case.number,
            "element_id": error.element,
            "data": {"step": step},
        }
        uow.publish(_envelope(case, NOTIFICATION_REQUESTED, notice, SYSTEM, now))
    uow.cases.add_incident(case.id, now, step, str(error), detail)
    uow.cases.add_timeline(
        case.id,
        now,
        SYSTEM.id,
        SYSTEM.role,
        "incident",
        error.element,
        None,
        {"step": step, "error": str(error)},
    )
    case.status = CaseStatus.INCIDENT
    case.updated_at = now
    uow.cases.save(case)
