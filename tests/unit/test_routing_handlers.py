"""Routing's handlers, each given an in-memory unit of work (tests/unit/fakes/routing.py) and the real
engine running the test diagrams in this process: no PostgreSQL, no RabbitMQ, no sandbox child.
Every entry of COMMAND_HANDLERS and EVENT_HANDLERS has a test here, marked `@covers(...)`; the last
test holds the tables and the marks together."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.common.bus.envelope import Actor, Envelope, event
from services.common.bus.events import (
    COMPLAINT_CLOSED,
    COMPLAINT_CORRECTED,
    COMPLAINT_MERGED,
    COMPLAINT_RECEIVED,
    RETENTION_ERASED,
    RETENTION_ERASURE_REQUESTED,
    TASK_CANCELLED,
    TASK_CLAIMED,
    TASK_COMPLETED,
    TASK_CREATED,
)
from services.common.errors import Conflict, Forbidden, InvalidInput, NotFound
from services.common.identity.model import Identity
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
from services.routing.domain.model import CaseStatus, TaskState
from services.routing.service_layer.context import Context
from services.routing.service_layer.corrections import MADE_MAJOR, CaseNotStarted
from services.routing.service_layer.handlers import COMMAND_HANDLERS, EVENT_HANDLERS
from services.routing.service_layer.timers import pending_timers
from tests.unit.fakes.routing import MALL, FakeUnitOfWork, context, diagram, received

COVERED: set[object] = set()
FLOOR = frozenset({"floor_supervisor"})
DESK = Actor("desk", "service_desk")


def covers(*messages: object):
    """Mark a test as the one for these table entries (command classes or event types)."""
    COVERED.update(messages)
    return lambda test: test


def deploy_command(bpmn: str = "complaint_v1.bpmn", **changes) -> DeployProcess:
    fields = {
        "dmn_xml": {"triage_v1.dmn": diagram("triage_v1.dmn")},
        "actor_id": "designer",
        "bpmn_name": bpmn,
    }
    return DeployProcess(bpmn_xml=diagram(bpmn), **{**fields, **changes})


def handle(command, uow: FakeUnitOfWork, ctx: Context):
    return COMMAND_HANDLERS[type(command)](command, uow, ctx)


def started(uow: FakeUnitOfWork, ctx: Context, bpmn: str = "complaint_v1.bpmn") -> str:
    """A deployed diagram and a case of it at its first task (handle_floor); the case's id."""
    if uow.processes.active(MALL, "complaint") is None:
        handle(deploy_command(bpmn), uow, ctx)
    envelope = received()
    EVENT_HANDLERS[COMPLAINT_RECEIVED](envelope, uow, ctx)
    return envelope.complaint_id


def complete(task_id: str, **data) -> CompleteTask:
    return CompleteTask(task_id, data, "zhang", FLOOR)


@covers(DeployProcess)
def test_a_deploy_proves_and_keeps_a_new_active_version_and_the_same_files_again_return_it():
    uow, ctx = FakeUnitOfWork(), context()

    first = handle(deploy_command(note="first"), uow, ctx)
    again = handle(deploy_command(note="again"), uow, ctx)

    assert (first.created, first.active, first.version.version) == (True, True, 1)
    assert first.proof is not None and first.proof.passed
    assert (again.created, again.active, again.version.id) == (False, True, first.version.id)
    assert len(uow.processes.versions) == 1


def test_a_diagram_that_does_not_parse_is_refused_and_nothing_is_kept():
    uow, ctx = FakeUnitOfWork(), context()

    with pytest.raises(InvalidInput) as refused:
        handle(deploy_command("bad_not_xml.bpmn"), uow, ctx)

    assert "bpmn" in refused.value.fields
    assert uow.processes.versions == [] and uow.rollbacks == 1


@covers(ProveProcess)
def test_the_designers_dry_run_proves_the_files_and_keeps_nothing():
    uow, ctx = FakeUnitOfWork(), context()

    parsed, proof = handle(ProveProcess(deploy_command("complaint_v2.bpmn")), uow, ctx)

    assert parsed.process_id == "complaint" and proof is not None and proof.passed
    assert uow.processes.versions == []


@covers(ActivateProcess)
def test_an_earlier_version_is_activated_for_new_cases_and_an_unknown_one_is_not_found():
    uow, ctx = FakeUnitOfWork(), context()
    handle(deploy_command(), uow, ctx)
    handle(deploy_command("complaint_v2.bpmn"), uow, ctx)

    activated = handle(ActivateProcess("complaint", 1, "designer", "v2 asks too much"), uow, ctx)
    with pytest.raises(NotFound):
        handle(ActivateProcess("complaint", 9, "designer", "no such"), uow, ctx)

    assert activated.version == 1
    assert uow.processes.active(MALL, "complaint").id == activated.id


@covers(COMPLAINT_RECEIVED)
def test_a_received_complaint_starts_its_case_once_at_the_floor_supervisors_task():
    uow, ctx = FakeUnitOfWork(), context()
    handle(deploy_command(), uow, ctx)
    envelope = received()

    first = EVENT_HANDLERS[COMPLAINT_RECEIVED](envelope, uow, ctx)
    again = EVENT_HANDLERS[COMPLAINT_RECEIVED](envelope, uow, ctx)  # delivered twice

    case_id = envelope.complaint_id
    assert (first, again) == (True, False)
    assert [task.element_id for task in uow.tasks.open_for_case(case_id)] == ["handle_floor"]
    assert uow.cases.kinds(case_id)[0] == "case_started"
    [created] = uow.of_type(TASK_CREATED)
    assert uow.routing_keys[created.id] == f"{TASK_CREATED}.floor_supervisor"
    assert created.complaint_id == case_id


@covers(CompleteTask)
def test_a_completed_task_moves_the_case_on_and_is_announced_a_bad_form_changes_nothing():
    uow, ctx = FakeUnitOfWork(), context()
    case_id = started(uow, ctx)
    task = uow.tasks.of_case(case_id, "handle_floor")

    with pytest.raises(InvalidInput):
        handle(complete(task.id, outcome="no such outcome"), uow, ctx)
    completion = handle(complete(task.id, outcome="resolved", resolution="退款"), uow, ctx)

    assert completion.incident is None and completion.task.state == TaskState.COMPLETED
    assert [t.element_id for t in uow.tasks.open_for_case(case_id)] == ["reply"]
    [announced] = uow.of_type(TASK_COMPLETED)
    assert announced.payload["task_id"] == task.id
    assert "task_completed" in uow.cases.kinds(case_id)


@covers(AssignTask)
def test_a_task_is_claimed_and_not_given_to_someone_who_is_not_an_active_colleague():
    uow, ctx = FakeUnitOfWork(), context()
    task_id = uow.tasks.of_case(started(uow, ctx), "handle_floor").id

    with pytest.raises(InvalidInput):
        handle(AssignTask(task_id, "gone", "zhang", FLOOR), uow, ctx)
    claimed = handle(AssignTask(task_id, "zhang", "zhang", FLOOR), uow, ctx)

    assert (claimed.assignee, claimed.state) == ("zhang", TaskState.CLAIMED)
    assert uow.tasks.rows[task_id].assignee == "zhang"
    assert [e.payload["task_id"] for e in uow.of_type(TASK_CLAIMED)] == [task_id]


def test_a_staff_member_is_told_a_task_outside_their_floors_does_not_exist_and_it_stays_as_it_was():
    uow, ctx = FakeUnitOfWork(), context()
    task = uow.tasks.of_case(started(uow, ctx), "handle_floor")
    elsewhere = Identity("li", FLOOR, "demo", floors=frozenset({"1F"}))
    here = Identity("zhang", FLOOR, "demo", floors=frozenset({task.floor}))
    published = len(uow.published)

    with pytest.raises(NotFound):
        handle(AssignTask(task.id, "li", "li", FLOOR, elsewhere), uow, ctx)
    with pytest.raises(NotFound):
        handle(CompleteTask(task.id, {"outcome": "resolved"}, "li", FLOOR, elsewhere), uow, ctx)
    assert uow.tasks.rows[task.id].state == TaskState.OPEN and len(uow.published) == published

    assert handle(AssignTask(task.id, "zhang", "zhang", FLOOR, here), uow, ctx).assignee == "zhang"


@covers(DeliverMessage)
def test_a_message_no_catch_event_waits_for_is_kept_and_its_repeat_counts_once():
    uow, ctx = FakeUnitOfWork(), context()
    case_id = started(uow, ctx, "message_wait.bpmn")
    message = DeliverMessage(case_id, "merchant_answered", {"text": "已退款"}, "key-1", "merchant-system")

    first = handle(message, uow, ctx)
    again = handle(message, uow, ctx)
    with pytest.raises(NotFound):
        handle(DeliverMessage("no-such-case", "merchant_answered", {}, "key-2", "merchant-system"), uow, ctx)

    assert (first, again) == ("buffered", "duplicate")
    assert [row["name"] for row in uow.messages.waiting(case_id, ctx.clock.now())] == ["merchant_answered"]


def test_only_a_message_the_diagram_waits_for_is_taken_and_never_routing_s_own():
    uow, ctx = FakeUnitOfWork(), context()
    case_id = started(uow, ctx, "message_wait.bpmn")

    with pytest.raises(InvalidInput) as stray:
        handle(DeliverMessage(case_id, "merchant_answer", {}, "key-1", "merchant-system"), uow, ctx)
    with pytest.raises(Forbidden):
        handle(
            DeliverMessage(case_id, "made_major", {}, "key-2", "ops", actor_role="operations_manager"),
            uow,
            ctx,
        )

    assert stray.value.fields == {"name": ["a message the case's diagram waits for: merchant_answered"]}
    assert uow.messages.waiting(case_id, ctx.clock.now()) == []


@covers(RetryCase)
def test_a_case_stopped_by_an_incident_is_retried_and_its_incidents_close():
    uow, ctx = FakeUnitOfWork(), context()
    case_id = started(uow, ctx)
    with pytest.raises(Conflict):  # running: nothing to retry
        handle(RetryCase(case_id, {}, "ops", "operations_manager"), uow, ctx)
    uow.cases.rows[case_id].status = CaseStatus.INCIDENT
    uow.cases.add_incident(case_id, ctx.clock.now(), "timer", "script failed", {})

    advanced = handle(RetryCase(case_id, {"note": "fixed"}, "ops", "operations_manager"), uow, ctx)

    assert advanced is True and uow.cases.rows[case_id].status == CaseStatus.RUNNING
    assert [incident["resolved_by"] for incident in uow.cases.incidents(case_id)] == ["ops"]
    assert uow.cases.timeline(case_id)[-1]["kind"] == "incident_resolved"


@covers(MoveTimer)
def test_an_operator_fires_the_handlers_timer_now_and_the_case_escalates():
    uow, ctx = FakeUnitOfWork(), context()
    case_id = started(uow, ctx)
    [timer] = pending_timers(uow, ctx, uow.cases.rows[case_id])

    moved, fired = handle(
        MoveTimer(case_id, timer.id, None, "顾客再次来电", "ops", "operations_manager"), uow, ctx
    )

    assert fired is True and moved.element_id == timer.element_id
    assert [task.element_id for task in uow.tasks.open_for_case(case_id)] == ["handle_ops"]
    assert "timer_fired" in uow.cases.kinds(case_id)


@covers(MigrateCase)
def test_a_case_moves_to_another_version_and_a_dry_run_only_says_it_could():
    uow, ctx = FakeUnitOfWork(), context()
    case_id = started(uow, ctx)
    handle(deploy_command("complaint_v2.bpmn"), uow, ctx)

    dry = handle(MigrateCase(case_id, 2, "修正", "designer", "process_designer", dry_run=True), uow, ctx)
    moved = handle(MigrateCase(case_id, 2, "修正", "designer", "process_designer"), uow, ctx)

    assert (dry.moved, dry.refused, moved.moved) == (False, False, True)
    assert uow.cases.rows[case_id].process_version_id == uow.processes.find(MALL, "complaint", 2).id
    assert uow.cases.kinds(case_id)[-1] == "case_migrated"


@covers(FireDueTimers)
def test_due_timers_fire_once_when_their_time_comes():
    uow, ctx = FakeUnitOfWork(), context()
    case_id = started(uow, ctx)

    early = handle(FireDueTimers(), uow, ctx)
    ctx.clock.advance(timedelta(hours=24, seconds=1))
    fired = handle(FireDueTimers(), uow, ctx)
    again = handle(FireDueTimers(), uow, ctx)

    assert (early, fired, again) == (0, 1, 0)
    assert [task.element_id for task in uow.tasks.open_for_case(case_id)] == ["handle_ops"]


def correction(case_id: str, changes: dict) -> Envelope:
    payload = {"complaint": received().payload, "changes": changes, "reason": "顾客补充"}
    return event(
        COMPLAINT_CORRECTED,
        mall_id=MALL,
        about=case_id,
        actor=DESK,
        at=context().clock.now(),
        payload=payload,
    )


@covers(COMPLAINT_CORRECTED)
def test_a_correction_reaches_its_running_case_and_one_making_it_major_hands_it_over_once():
    uow, ctx = FakeUnitOfWork(), context()
    case_id = started(uow, ctx)
    made_major = correction(case_id, {"severity": {"old": "normal", "new": "major"}})

    with pytest.raises(CaseNotStarted):  # retried by the consumer until the case exists
        EVENT_HANDLERS[COMPLAINT_CORRECTED](correction("00000000-0000-4000-8000-000000000000", {}), uow, ctx)
    EVENT_HANDLERS[COMPLAINT_CORRECTED](made_major, uow, ctx)
    EVENT_HANDLERS[COMPLAINT_CORRECTED](made_major, uow, ctx)  # delivered twice

    kinds = uow.cases.kinds(case_id)
    assert kinds.count("complaint_corrected") == 2 and kinds.count("severity_raised") == 1
    assert [row["name"] for row in uow.messages.rows] == [MADE_MAJOR]


@covers(COMPLAINT_MERGED)
def test_a_merged_complaints_case_closes_its_tasks_and_says_it_was_merged():
    uow, ctx = FakeUnitOfWork(), context()
    case_id = started(uow, ctx)
    payload = {"into_number": "TS-20261122-0009", "reason": "同一事件"}
    merged = event(
        COMPLAINT_MERGED, mall_id=MALL, about=case_id, actor=DESK, at=ctx.clock.now(), payload=payload
    )

    closed = EVENT_HANDLERS[COMPLAINT_MERGED](merged, uow, ctx)
    again = EVENT_HANDLERS[COMPLAINT_MERGED](merged, uow, ctx)

    assert (closed, again) == (True, False)
    assert uow.tasks.open_for_case(case_id) == [] and uow.cases.rows[case_id].status == CaseStatus.COMPLETED
    assert [e.payload["element_id"] for e in uow.of_type(TASK_CANCELLED)] == ["handle_floor"]
    [announced] = uow.of_type(COMPLAINT_CLOSED)
    assert announced.payload["data"] == {"closed_as": "merged", "merged_into": "TS-20261122-0009"}


@covers(RETENTION_ERASURE_REQUESTED)
def test_retentions_request_erases_routings_cases_and_answers_with_what_it_found():
    uow, ctx = FakeUnitOfWork(), context()
    case_id = started(uow, ctx)
    payload = {"complaint_ids": [case_id, "00000000-0000-4000-8000-000000000000"], "reason": "expired"}
    request = event(
        RETENTION_ERASURE_REQUESTED,
        mall_id=MALL,
        actor=Actor("reporting", "service"),
        at=ctx.clock.now(),
        payload=payload,
    )

    EVENT_HANDLERS[RETENTION_ERASURE_REQUESTED](request, uow, ctx)

    assert [e.payload for e in uow.of_type(RETENTION_ERASED)] == [
        {"service": "routing", "complaint_ids": [case_id]}
    ]
    assert uow.erasure.erased == [case_id]


def test_every_handler_in_the_tables_has_a_test_here():
    assert set(COMMAND_HANDLERS) | set(EVENT_HANDLERS) == COVERED
