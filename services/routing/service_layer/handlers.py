"""Routing's handlers: deploy a diagram, start a case, act on a task, fire due timers; the commands its
routes, its task-command consumer and its timer scheduler send and the events its consumer receives,
each handled by the one function the tables at the bottom name (services/common/messagebus.py)."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, replace
from datetime import timedelta
from zoneinfo import ZoneInfo

from services.common import i18n
from services.common.bus.envelope import Actor, Envelope
from services.common.bus.events import (
    COMPLAINT_CORRECTED,
    COMPLAINT_MERGED,
    COMPLAINT_RECEIVED,
    RETENTION_ERASURE_REQUESTED,
    TASK_CLAIMED,
    TASK_COMPLETED,
)
from services.common.errors import Conflict, Forbidden, InvalidInput, NotFound
from services.common.identity.model import Identity
from services.routing.adapters.cases import CaseRow
from services.routing.adapters.processes import ProcessVersion
from services.routing.domain.commands import (
    ActivateProcess,
    AssignTask,
    CompleteTask,
    DeliverMessage,
    DeployProcess,
    FireDueTimers,
    MigrateCase,
    MoveTimer,
    ProveProcess,
    RetryCase,
)
from services.routing.domain.form_checks import check_form, form_names
from services.routing.domain.model import (
    COMPLETED_IN_QUEUE,
    OPEN_STATES,
    QUEUES,
    CaseStatus,
    Task,
    TaskState,
    assignment_refused,
)
from services.routing.engine import Diagram, DiagramError
from services.routing.engine.foreign import calls_outside
from services.routing.engine.lanes import queue_codes
from services.routing.engine.problems import render
from services.routing.engine.step_request import Step
from services.routing.metrics import TIMER_DELAY_SECONDS
from services.routing.service_layer.context import Context
from services.routing.service_layer.contracts import dropped_events
from services.routing.service_layer.corrections import MADE_MAJOR, correct_case
from services.routing.service_layer.diagrams import candidate_source, parse_version
from services.routing.service_layer.merging import close_merged_case
from services.routing.service_layer.migrations import migrate_case
from services.routing.service_layer.proving import ProofReport, prove_source
from services.routing.service_layer.retention import erase_on_request
from services.routing.service_layer.steps import SYSTEM, CaseRef, advance_case, announce, start_new_case
from services.routing.service_layer.timers import move_timer
from services.routing.service_layer.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Deployment:
    """A deployed version: new (and active), or the existing one deployed from the same files."""

    version: ProcessVersion
    created: bool
    active: bool  # new complaint cases of its process start it
    proof: ProofReport | None = None  # for a new version of the complaint process


def as_deployed(command: DeployProcess, uow: UnitOfWork, context: Context) -> DeployProcess:
    """The files as routing checks and keeps them: lanes and candidate groups named by a queue's name
    (楼层主管) named by its code (engine/lanes.py), with the processes the diagram calls."""
    command = replace(command, bpmn_xml=queue_codes(command.bpmn_xml, frozenset(QUEUES)))
    return with_called_processes(command, uow, context)


def with_called_processes(command: DeployProcess, uow: UnitOfWork, context: Context) -> DeployProcess:
    """The deploy with the BPMN of the processes its call activities call that the file does not draw:
    each one's active version, and what that version called when it was deployed. A version keeps
    them, so its cases run what was proved even after a called process gets a new version."""
    called: dict[str, str] = {}
    for key in sorted(calls_outside(command.bpmn_xml)):
        active = uow.processes.active(context.mall_id, key)
        version = uow.processes.get(active.id) if active is not None else None
        if version is not None:
            called.update({**version.called_bpmn, key: version.bpmn_xml})
    return replace(command, called=called)


def _sources(command: DeployProcess) -> dict[str, str]:
    """What a version is made of besides its BPMN: DMN, forms, and the processes it calls."""
    return {
        **command.dmn_xml,
        **command.forms,
        **{f"called/{key}": text for key, text in command.called.items()},
    }


def prove_process(command: DeployProcess, context: Context) -> tuple[Diagram, ProofReport | None]:
    """Validate the files and, for the complaint process, prove them (nothing is stored): the
    designer's dry run, and the first half of every deploy. A process that starts no complaint case
    is not proved: the probes are complaints."""
    diagram = _parse(command)
    return diagram, _prove(diagram, _hash(command.bpmn_xml, _sources(command)), command, context)


def prove_deployment(
    command: ProveProcess, uow: UnitOfWork, context: Context
) -> tuple[Diagram, ProofReport | None]:
    """The designer's dry run: the processes the diagram calls are read in the unit of work, the
    proof runs after it (nothing is stored, and no transaction waits on the proof)."""
    with uow:
        deploy = as_deployed(command.deploy, uow, context)
    return prove_process(deploy, context)


def _prove(
    diagram: Diagram, source_hash: str, command: DeployProcess, context: Context
) -> ProofReport | None:
    if diagram.process_id != context.process_key:
        return None
    source = candidate_source(
        source_hash, command.bpmn_xml, command.dmn_xml, command.bpmn_name, command.forms, command.called
    )
    return prove_source(source, context)


def deploy_process(command: DeployProcess, uow: UnitOfWork, context: Context) -> Deployment:
    """Validate, prove and keep a new version, active at once; files identical to an existing
    version of the process return that one (not created, and activated only on request). A version
    the proof finds a problem in is refused, every problem named."""
    with uow:
        command = as_deployed(command, uow, context)
        diagram = _parse(command)
        source_hash = _hash(command.bpmn_xml, _sources(command))
        same = uow.processes.with_source(context.mall_id, diagram.process_id, source_hash)
        if same is not None:
            active = uow.processes.active(context.mall_id, diagram.process_id)
            return Deployment(same, created=False, active=active is not None and active.id == same.id)
        _keeps_the_reported_events(diagram, command, uow, context)
        proof = _prove(diagram, source_hash, command, context)
        if proof is not None and not proof.passed:
            problems = proof.messages(command.language)
            raise InvalidInput(
                f"diagram refused: the proof found {len(problems)} problem(s): " + "; ".join(problems),
                {"bpmn": problems},
            )
        now = context.clock.now()
        version = uow.processes.add(
            context.mall_id,
            diagram.process_id,
            command.bpmn_xml,
            command.dmn_xml,
            source_hash,
            command.actor_id,
            now,
            command.note,
            command.forms,
            command.called,
        )
        uow.processes.activate(version, command.actor_id, now, command.note or "deployed")
        log.info("process deployed", extra={"process_key": version.process_key, "version": version.version})
        return Deployment(version, created=True, active=True, proof=proof)


def _keeps_the_reported_events(
    diagram: Diagram, command: DeployProcess, uow: UnitOfWork, context: Context
) -> None:
    """A new complaint version announces every event the reports count that the active one does."""
    active = uow.processes.active(context.mall_id, context.process_key)
    if diagram.process_id != context.process_key or active is None:
        return
    dropped = dropped_events(
        diagram, context.diagrams.get(active.id, uow.processes.get), active.version, command.bpmn_name
    )
    if dropped:
        messages = [render(problem, command.language) for problem in dropped]
        raise InvalidInput("diagram refused: " + "; ".join(messages), {"bpmn": messages})


def _parse(command: DeployProcess) -> Diagram:
    """The parsed diagram, or a 400 listing every problem found, in the designer's language; a
    problem in a JSON-schema form file is the `forms` field's, any other the `bpmn` field's."""
    try:
        return parse_version(
            command.bpmn_xml, command.dmn_xml, command.bpmn_name, command.forms, command.called
        )
    except DiagramError as exc:
        fields: dict[str, list[str]] = {}
        for problem in exc.problems:
            field = "forms" if problem.file in command.forms else "bpmn"
            fields.setdefault(field, []).append(render(problem, command.language))
        count = len(exc.problems)
        raise InvalidInput(
            f"diagram refused, {count} problem{'s' * (count != 1)}: "
            + "; ".join(render(problem, command.language) for problem in exc.problems),
            fields,
        ) from exc


def activate_process(command: ActivateProcess, uow: UnitOfWork, context: Context) -> ProcessVersion:
    """Make an earlier (or any) version the one new cases start: a rollback, kept with who and why."""
    with uow:
        version = uow.processes.find(context.mall_id, command.process_key, command.version)
        if version is None:
            raise NotFound(f"no version {command.version} of {command.process_key}")
        active = uow.processes.active(context.mall_id, command.process_key)
        if active is not None and active.id == version.id:  # a second activation would only add a line
            raise Conflict(f"version {version.version} of {version.process_key} is the active one already")
        uow.processes.activate(version, command.actor_id, context.clock.now(), command.reason)
        log.info("process activated", extra={"process_key": version.process_key, "version": version.version})
        return version


def start_case(envelope: Envelope, uow: UnitOfWork, context: Context) -> bool:
    """Start the complaint process's active version for a received complaint; False if its case
    already exists. No other process starts complaint cases."""
    with uow:
        version = uow.processes.active(context.mall_id, context.process_key)
        if version is None:
            raise RuntimeError(
                f"no version of the {context.process_key!r} process is deployed: deploy bpmn/complaint.bpmn"
            )
        complaint = {key: value for key, value in envelope.payload.items() if key != "policy"}
        now = context.clock.now()
        case = CaseRow(
            id=envelope.complaint_id,
            mall_id=envelope.mall_id,
            number=complaint["number"],
            process_version_id=version.id,
            status=CaseStatus.RUNNING,
            state={},
            revision=1,
            next_due_at=None,
            floor=complaint.get("floor"),
            department=complaint.get("department"),
            created_at=now,
            updated_at=now,
        )
        # The mall's zone travels with the policy, so the diagram computes its dates and deadlines in it.
        data = {
            "complaint": complaint,
            "policy": {"time_zone": context.time_zone, **envelope.payload.get("policy", {})},
        }
        started = {"process": version.process_key, "version": version.version}
        if not start_new_case(uow, context, case, data, envelope.actor, started):
            return False
        log.info("case started", extra={"number": case.number, "process_version": version.version})
        return True


@dataclass(frozen=True)
class Completion:
    """A completed task, or the incident that stopped its case (the task then stays open)."""

    task: Task
    incident: str | None = None


def retry_case(command: RetryCase, uow: UnitOfWork, context: Context) -> bool:
    """Run a case's pending steps again after an incident, with corrected data if given;
    its incidents close if it advances. A completion the failed step carried is applied with it,
    as its handler submitted it, while its task is still theirs to complete."""
    actor, data = Actor(command.actor_id, command.actor_role), command.data or {}
    with uow:
        case = uow.cases.lock(command.case_id)
        if case is None or case.mall_id != context.mall_id:
            raise NotFound(f"no case {command.case_id}")
        if case.status != CaseStatus.INCIDENT:
            raise Conflict(f"the case is {case.status}, not stopped by an incident")
        case.status = CaseStatus.RUNNING
        stopped = _open_incident(uow, case)
        # what went out when the step first failed (the acknowledgement of a case stopped at its start)
        announced = frozenset(stopped.get("announced", ()))
        held = _held_completion(uow, context, stopped.get("completion"))
        with uow.deferred():
            if held is None:
                work = Step(case.state, data=data)
                if not advance_case(uow, context, case, work, actor, "retry", announced=announced):
                    return False
            elif _complete(uow, context, case, *held, retried_by=actor, corrections=data) is None:
                return False
            now = context.clock.now()
            uow.cases.resolve_incidents(case.id, now, actor.id)
            detail = {"data": data}
            uow.cases.add_timeline(
                case.id, now, actor.id, actor.role, "incident_resolved", None, None, detail
            )
        return True


def _open_incident(uow: UnitOfWork, case: CaseRow) -> dict:
    """The detail of the case's open incident (the latest, should there be more), or {}."""
    opened = [incident for incident in uow.cases.incidents(case.id) if incident["resolved_at"] is None]
    return (opened[-1]["detail"] or {}) if opened else {}


def _held_completion(
    uow: UnitOfWork, context: Context, completion: dict | None
) -> tuple[Task, str, dict] | None:
    """The task, handler and form data of the completion that stopped the case, if its task is still
    open and nobody else has claimed it since (then it is theirs to complete, and the retry only
    runs the case's pending steps)."""
    if completion is None:
        return None
    task = uow.tasks.get(context.mall_id, completion["task_id"])
    if task is None or task.state not in OPEN_STATES or task.assignee not in (None, completion["by"]):
        return None
    return task, completion["by"], completion["data"]


# A yes/no field's values as a refusal names them ("required when reached is true": 已联系到顾客为“是”).
YES_NO = {
    value: {language: i18n.term("report", word, language) for language in i18n.LANGUAGES}
    for value, word in (("true", "yes"), ("false", "no"))
}

# Messages routing hands a case itself (a correction that made the complaint major sends it to the
# store manager): a member of staff or a department's system sending one would move the case.
SYSTEM_MESSAGES = frozenset({MADE_MAJOR})


def deliver_message(command: DeliverMessage, uow: UnitOfWork, context: Context) -> str:
    """`delivered`, `buffered` (no catch event waits yet) or `duplicate` (key seen before). Only a
    message some catch event of the case's diagram waits for is taken, and never one of routing's own."""
    if command.name in SYSTEM_MESSAGES:
        raise Forbidden(f"the message {command.name} is sent by routing itself, not from outside")
    with uow:
        case = uow.cases.lock(command.case_id)
        if case is None or case.mall_id != context.mall_id:
            raise NotFound(f"no case {command.case_id}")
        if uow.messages.seen(command.idempotency_key):
            return "duplicate"
        _check_caught(command.name, context.diagrams.get(case.process_version_id, uow.processes.get))
        now = context.clock.now()
        # Who sent it, on the case's timeline: its delivery may come later, in another step.
        detail = {"name": command.name}
        uow.cases.add_timeline(
            case.id, now, command.actor_id, command.actor_role, "message_received", None, None, detail
        )
        expires = now + timedelta(seconds=command.ttl_seconds)
        # Recorded first (as delivered or not), so the key also guards a message delivered at once.
        uow.messages.buffer(case.id, command.name, command.payload, command.idempotency_key, now, expires)
        actor = Actor(command.actor_id, None)
        advance_case(uow, context, case, Step(case.state), actor, f"message {command.name}")
        delivered = not any(message["name"] == command.name for message in uow.messages.waiting(case.id, now))
        return "delivered" if delivered else "buffered"


def _check_caught(name: str, diagram: Diagram) -> None:
    caught = sorted(diagram.caught_messages() - SYSTEM_MESSAGES)
    if name not in caught:
        expected = ", ".join(caught) if caught else "none"
        raise InvalidInput(
            f"the case's diagram waits for no message {name}",
            {"name": [f"a message the case's diagram waits for: {expected}"]},
        )


def complete_task(command: CompleteTask, uow: UnitOfWork, context: Context) -> Completion:
    with uow:
        # The case is locked before the task, in the order every other step takes them.
        case, task = uow.cases.lock_with_task(context.mall_id, command.task_id) or (None, None)
        task = _workable(task, command.task_id, command.actor_roles, command.worked_by)
        if task.assignee not in (None, command.actor_id):
            raise Conflict(f"the task is claimed by {task.assignee}")
        today = context.clock.now().astimezone(ZoneInfo(context.time_zone)).date()  # the mall's day
        data, errors = check_form(task.form, command.data, today)
        if errors:
            names = form_names(task.form, YES_NO)  # a Chinese reader is told 顾客满意, not satisfied
            raise InvalidInput(
                "the task's form has invalid fields: " + ", ".join(errors), errors, names=names
            )
        completed = _complete(uow, context, case, task, command.actor_id, data)
        if completed is None:
            return Completion(
                task,
                incident=f"the case could not advance past {task.element_id}; incident recorded;"
                " the submission is kept and applied when the case is repaired",
            )
        return Completion(completed)


def _complete(
    uow: UnitOfWork,
    context: Context,
    case: CaseRow,
    task: Task,
    by: str,
    data: dict,
    retried_by: Actor | None = None,
    corrections: dict | None = None,
) -> Task | None:
    """Complete the task as `by` with its form's `data` and run the case to its next wait; None when
    the step failed (the task stays open as it was; the incident keeps the completion). After a
    repair, `retried_by` reapplies a completion the incident kept, with the repairer's corrections."""
    actor = Actor(by, task.queue)
    now = context.clock.now()
    step = "retry" if retried_by else f"complete {task.element_id}"
    # The workflow also learns the task's queue, so a diagram can send the case back to whoever acted.
    task_data = {**data, COMPLETED_IN_QUEUE: task.queue}
    work = Step(case.state, data=corrections or {}, task_id=task.id, task_data=task_data)
    # The task's close, the step's rows and events, the case's save: all written together at the
    # block's end. A step that fails leaves the task open as it was; its incident is kept.
    with uow.deferred():
        mark = uow.cases.timeline_mark(case.id)  # the completion reads before what its step did
        if not advance_case(uow, context, case, work, actor, step, completing=task.id):
            return None
        completed = replace(task, state=TaskState.COMPLETED, closed_at=now, closed_by=by)
        uow.tasks.close(task.id, TaskState.COMPLETED, now, by)
        announce(uow, case, completed, TASK_COMPLETED, actor, now, data)
        detail = {"data": data} if retried_by is None else {"data": data, "applied_by": retried_by.id}
        uow.cases.add_timeline(
            case.id, now, actor.id, actor.role, "task_completed", task.element_id, task.id, detail, mark
        )
    return completed


def assign_task(command: AssignTask, uow: UnitOfWork, context: Context) -> Task:
    with uow:
        task = _open_task(uow, context, command.task_id, command.actor_roles, command.worked_by)
        if _held_by_active_colleague(uow, context, task, command.actor_id):
            # Theirs to release or pass on; a colleague who has left frees the task for the others.
            raise Conflict(f"the task is claimed by {task.assignee}: only they can unclaim or reassign it")
        if command.assignee not in (None, command.actor_id):  # given to a colleague: one who could act on it
            refused = assignment_refused(task, uow.staff.active(context.mall_id, command.assignee))
            if refused:
                raise InvalidInput(
                    f"the task cannot go to {command.assignee}: {refused}", {"assignee": [refused]}
                )
        updated = replace(
            task, assignee=command.assignee, state=TaskState.CLAIMED if command.assignee else TaskState.OPEN
        )
        case = CaseRef(task.case_id, task.mall_id)  # all an announcement needs: the case is not read
        now = context.clock.now()
        actor = Actor(command.actor_id, task.queue)
        kind = "task_claimed" if command.assignee == command.actor_id else "task_assigned"
        with uow.deferred():  # the new holder, the event and the timeline row in one statement
            uow.tasks.set_assignee(task.id, command.assignee)
            announce(uow, case, updated, TASK_CLAIMED, actor, now)
            uow.cases.add_timeline(
                case.id,
                now,
                actor.id,
                actor.role,
                kind if command.assignee else "task_unclaimed",
                task.element_id,
                task.id,
                {"assignee": command.assignee},
            )
        return updated


def fire_due_timers(command: FireDueTimers, uow: UnitOfWork, context: Context) -> int:
    """Advance cases whose timer is due (cases other workers hold are skipped); how many were taken.

    A case whose step fails is taken too: it gets an incident and leaves the due list. Whether any
    is due is asked first with one statement alone: most of the scheduler's rounds find none, and
    would pay a BEGIN and a COMMIT for it.
    """
    now = context.clock.now()
    with uow.each_statement_commits():
        if not uow.cases.any_due(now):
            return 0
    with uow:
        due = uow.cases.lock_due(now, command.limit)
        for case in due:
            TIMER_DELAY_SECONDS.observe(max((now - case.next_due_at).total_seconds(), 0))
            advance_case(uow, context, case, Step(case.state), SYSTEM, "timer")
        return len(due)


def _held_by_active_colleague(uow: UnitOfWork, context: Context, task: Task, actor_id: str) -> bool:
    if task.assignee in (None, actor_id):
        return False
    return uow.staff.active(context.mall_id, task.assignee) is not None


def _open_task(
    uow: UnitOfWork, context: Context, task_id: str, roles: frozenset[str], worked_by: Identity | None = None
) -> Task:
    return _workable(uow.tasks.get(context.mall_id, task_id, for_update=True), task_id, roles, worked_by)


def _workable(
    task: Task | None, task_id: str, roles: frozenset[str], worked_by: Identity | None = None
) -> Task:
    """The open task, if the actor may work it (it is in one of their queues, within their scope)."""
    if task is None or (worked_by is not None and not task.workable_by(worked_by)):
        raise NotFound(f"no task {task_id}")
    if roles and task.queue not in roles:
        raise Forbidden(f"the task is in the {task.queue} queue")
    if not task.is_open:
        raise Conflict(f"the task is {task.state}")
    return task


def _hash(bpmn_xml: str, dmn_xml: dict[str, str]) -> str:
    digest = hashlib.sha256(bpmn_xml.encode())
    for name in sorted(dmn_xml):
        digest.update(name.encode() + b"\0" + dmn_xml[name].encode())
    return digest.hexdigest()


COMMAND_HANDLERS = {
    DeployProcess: deploy_process,
    ProveProcess: prove_deployment,
    ActivateProcess: activate_process,
    CompleteTask: complete_task,
    AssignTask: assign_task,
    DeliverMessage: deliver_message,
    RetryCase: retry_case,
    MoveTimer: move_timer,
    MigrateCase: migrate_case,
    FireDueTimers: fire_due_timers,
}
EVENT_HANDLERS = {
    COMPLAINT_RECEIVED: start_case,
    COMPLAINT_CORRECTED: correct_case,
    COMPLAINT_MERGED: close_merged_case,
    RETENTION_ERASURE_REQUESTED: erase_on_request,
}
