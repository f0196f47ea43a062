"""Routing's HTTP API: the task queues, and cases (deployed processes are in `processes`)."""

from __future__ import annotations

from flask import Response, current_app

from services.common.errors import Conflict, Forbidden, NotFound
from services.common.identity.model import Identity, Role
from services.common.web import Blueprint, current_identity, require_roles
from services.common.web.pagination import decode_cursor, encode_cursor
from services.routing.adapters.cases import CaseSummary
from services.routing.adapters.tasks import TaskQuery
from services.routing.domain.commands import AssignTask, CompleteTask, DeliverMessage, RetryCase
from services.routing.domain.model import QUEUES
from services.routing.entrypoints import schemas
from services.routing.entrypoints.presenters import (
    masks_for,
    named_timeline,
    present_incidents,
    present_timeline,
)

STAFF = tuple(sorted(QUEUES))
CASE_READERS = (*STAFF, Role.SERVICE, Role.PROCESS_DESIGNER, Role.ADMIN)

tasks = Blueprint("tasks", __name__, url_prefix="/tasks", description="The department task queues.")
cases = Blueprint("cases", __name__, url_prefix="/cases", description="Cases: where each complaint is.")


def _routing():
    return current_app.extensions["routing"]


def _queues_of(identity: Identity, wanted: str | None) -> tuple[str, ...]:
    mine = tuple(sorted(role for role in identity.roles if role in QUEUES))
    if wanted is None:
        return mine
    if wanted not in mine:
        raise Forbidden(f"you do not work the {wanted} queue")
    return (wanted,)


@tasks.route("")
@require_roles(*STAFF)
@tasks.arguments(schemas.TaskListArgs(), location="query")
@tasks.response(200, schemas.TaskPage)
def list_tasks(args):
    """Open tasks of my queues (or one of them), oldest first; floor and department scopes apply."""
    identity = current_identity()
    floors, departments = identity.scope or (None, None)
    query = TaskQuery(
        mall_id=identity.mall_id,
        queues=_queues_of(identity, args.get("queue")),
        limit=args["limit"],
        after=decode_cursor(args["cursor"]) if "cursor" in args else None,
        assignee=identity.subject if args["mine"] else None,
        number=args.get("number"),
        scope_floors=floors,
        scope_departments=departments,
    )
    with _routing().reading() as uow:
        found = uow.tasks.list(query)
    next_cursor = encode_cursor(found[-1].created_at, found[-1].id) if len(found) == query.limit else None
    return {"items": found, "next_cursor": next_cursor}  # the schema reads the tasks' attributes


def _visible_task(task_id: str):
    identity = current_identity()
    with _routing().reading() as uow:
        task = uow.tasks.get(identity.mall_id, str(task_id))
    if task is None or not task.workable_by(identity):
        raise NotFound(f"no task {task_id}")
    return task


@tasks.route("/<uuid:task_id>")
@require_roles(*STAFF)
@tasks.response(200, schemas.TaskOut)
@tasks.alt_response(404, response="NOT_FOUND")
def get_task(task_id):
    """One task with the form it asks for."""
    return _visible_task(task_id)


def _assign(task_id, assignee: str | None):
    identity = current_identity()
    command = AssignTask(str(task_id), assignee, identity.subject, frozenset(identity.roles), identity)
    return _routing().bus.handle(command)


@tasks.route("/<uuid:task_id>/claim", methods=["POST"])
@require_roles(*STAFF)
@tasks.response(200, schemas.TaskOut)
@tasks.alt_response(404, response="NOT_FOUND")
@tasks.alt_response(409, response="CONFLICT")
def claim_task(task_id):
    """Take the task: it is mine until I complete or unclaim it."""
    return _assign(task_id, current_identity().subject)


@tasks.route("/<uuid:task_id>/unclaim", methods=["POST"])
@require_roles(*STAFF)
@tasks.response(200, schemas.TaskOut)
@tasks.alt_response(404, response="NOT_FOUND")
@tasks.alt_response(409, response="CONFLICT")
def unclaim_task(task_id):
    """Put the task back in the queue."""
    return _assign(task_id, None)


@tasks.route("/<uuid:task_id>/reassign", methods=["POST"])
@require_roles(*STAFF)
@tasks.arguments(schemas.ReassignIn())
@tasks.response(200, schemas.TaskOut)
@tasks.alt_response(404, response="NOT_FOUND")
@tasks.alt_response(409, response="CONFLICT")
def reassign_task(data, task_id):
    """Give the task to a colleague who works its queue where it is (400 naming `assignee` otherwise)."""
    return _assign(task_id, data["assignee"])


@tasks.route("/<uuid:task_id>/complete", methods=["POST"])
@require_roles(*STAFF)
@tasks.arguments(schemas.CompleteIn())
@tasks.response(200, schemas.TaskOut)
@tasks.alt_response(404, response="NOT_FOUND")
@tasks.alt_response(409, response="CONFLICT")
def complete_task(data, task_id):
    """Complete the task with its form's data; the case runs on to its next wait."""
    identity = current_identity()
    command = CompleteTask(str(task_id), data["data"], identity.subject, frozenset(identity.roles), identity)
    completion = _routing().bus.handle(command)
    if completion.incident:
        raise Conflict(completion.incident)
    return completion.task


@cases.route("/<uuid:case_id>")
@require_roles(*CASE_READERS)
@cases.response(200, schemas.CaseOut)
@cases.alt_response(404, response="NOT_FOUND")
def get_case(case_id):
    """A case: its status, version, the diagram elements it is at, open tasks and incidents."""
    return case_view(case_id)


def visible_case(uow, case_id, open_tasks: bool = False, reading: bool = False) -> CaseSummary:
    """The case without its workflow state (with its open tasks when asked), if the caller may see
    it (its mall; a supervisor's floors, a manager's department; when only `reading`, a department
    a notice of the case told too); 404 otherwise, as if it did not exist."""
    identity = current_identity()
    case = uow.cases.summary(identity.mall_id, str(case_id), open_tasks)
    if case is None or not (
        identity.can_see(case.floor, case.department) or (reading and identity.told_of(case.departments_told))
    ):
        raise NotFound(f"no case {case_id}")
    return case


def case_view(case_id) -> dict:
    """What a reader sees of a case. The workflow is restored only for a case saved without the
    elements it is at (before they were saved with each step, or just moved to another version)."""
    identity = current_identity()
    routing = _routing()
    with routing.reading() as uow:
        case = visible_case(uow, case_id, open_tasks=True, reading=True)
        open_tasks = case.open_tasks
        current = case.current_elements
        if current is None:
            diagram = routing.context.diagrams.get(case.process_version_id, uow.processes.get)
            workflow = routing.context.engine.restore(diagram, uow.cases.state_of(case.id))
            current = routing.context.engine.current_elements(workflow)
        incidents = []
        if case.had_incidents:  # their errors may quote the customer: masked for whoever sees it masked
            masks = masks_for(identity, open_tasks, lambda: uow.cases.customers(case.id))
            incidents = present_incidents(uow.cases.incidents(case.id), masks)
        return {
            "id": case.id,
            "number": case.number,
            "status": case.status,
            "process_key": case.process_key,
            "version": case.version,
            "current_elements": current,
            "visited": case.visited,
            "next_due_at": case.next_due_at,
            # the reader sees every open task; only those of their own queues lead to the task's page
            "open_tasks": [{**vars(task), "workable": task.workable_by(identity)} for task in open_tasks],
            "incidents": incidents,
        }


@cases.route("/<uuid:case_id>/timeline")
@require_roles(*CASE_READERS)
@cases.response(200, schemas.TimelineEntry(many=True))
@cases.alt_response(404, response="NOT_FOUND")
def get_timeline(case_id):
    """Every step of the case, oldest first: who, in which role, when, what, at which element.

    What staff wrote (task data, reasons) is shown as written to the desk and to whoever holds an
    open task of the case; to everyone else with the customer's details, phone numbers, e-mail
    addresses, ID and bank card numbers masked (王**, 139****5678), as intake shows the customer.
    """
    identity = current_identity()
    routing = _routing()
    with routing.reading() as uow:
        case = visible_case(uow, case_id, open_tasks=True, reading=True)
        masks = masks_for(identity, case.open_tasks, lambda: uow.cases.customers(case.id))
        diagram = routing.context.diagrams.get(case.process_version_id, uow.processes.get)
        return named_timeline(present_timeline(uow.cases.timeline(case.id), masks), diagram)


@cases.route("/<uuid:case_id>/diagram")
@require_roles(*CASE_READERS)
@cases.alt_response(404, response="NOT_FOUND")
@cases.doc(
    responses={200: {"description": "the BPMN XML of the case's version", "content": {"application/xml": {}}}}
)
def get_case_diagram(case_id):
    """The diagram the case runs on (its own version), for drawing where the case is."""
    with _routing().reading() as uow:
        case = visible_case(uow, case_id, reading=True)
        version = uow.processes.get(case.process_version_id)
    return Response(version.bpmn_xml, mimetype="application/xml")


@cases.route("/<uuid:case_id>/retry", methods=["POST"])
@require_roles(Role.OPERATIONS_MANAGER, Role.STORE_MANAGER, Role.PROCESS_DESIGNER, Role.ADMIN)
@cases.arguments(schemas.RetryIn())
@cases.response(200, schemas.CaseOut)
@cases.alt_response(404, response="NOT_FOUND")
@cases.alt_response(409, response="CONFLICT")
def retry_case(data, case_id):
    """Retry the step an incident stopped, with corrected workflow data if given (409 if it fails again)."""
    identity = current_identity()
    command = RetryCase(str(case_id), data["data"], identity.subject, sorted(identity.roles)[0])
    advanced = _routing().bus.handle(command)
    if not advanced:
        raise Conflict("the step failed again; a new incident was recorded")
    return case_view(case_id)


@cases.route("/<uuid:case_id>/messages", methods=["POST"])
@require_roles(*STAFF, Role.SERVICE)
@cases.arguments(schemas.MessageIn())
@cases.response(202, schemas.MessageOut)
@cases.alt_response(404, response="NOT_FOUND")
def post_message(data, case_id):
    """A message from outside (the merchant's answer …): delivered, or kept until the case waits for it."""
    identity = current_identity()
    with _routing().reading() as uow:
        visible_case(uow, case_id)
    command = DeliverMessage(
        str(case_id),
        data["name"],
        data["data"],
        data["idempotency_key"],
        identity.subject,
        data["ttl_seconds"],
        sorted(identity.roles)[0],
    )
    return {"status": _routing().bus.handle(command)}, 202
