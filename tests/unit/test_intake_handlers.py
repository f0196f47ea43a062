"""Intake's handlers, each given an in-memory unit of work (tests/unit/fakes/intake.py): no
PostgreSQL, no RabbitMQ. Every entry of COMMAND_HANDLERS and EVENT_HANDLERS has a test here, marked
`@covers(...)`; the last test holds the tables and the marks together."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from services.common.bus.envelope import Actor, Envelope
from services.common.bus.events import (
    COMPLAINT_CORRECTED,
    COMPLAINT_MERGED,
    COMPLAINT_RECEIVED,
    NOTIFICATION_REQUESTED,
    RETENTION_ERASED,
    RETENTION_ERASURE_REQUESTED,
    TASK_CANCELLED,
    TASK_COMPLETED,
)
from services.common.errors import Conflict, InvalidInput, NotFound
from services.intake.domain.commands import (
    AttachFiles,
    CheckComplaint,
    CheckFiles,
    CorrectComplaint,
    EraseCustomerData,
    ExportCustomerData,
    LinkComplaints,
    MergeComplaints,
    RecordComplaint,
)
from services.intake.domain.model import Category, Channel, Customer, Severity
from services.intake.domain.privacy import RequestKind
from services.intake.service_layer.case_events import OPENING, POSTPONED, PROGRESS_EVENTS, TASK_EVENTS
from services.intake.service_layer.handlers import COMMAND_HANDLERS, EVENT_HANDLERS
from tests.unit.fakes.intake import MALL, FakeUnitOfWork, context

COVERED: set[object] = set()
PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
ROUTING = Actor("routing", "service")


def covers(*messages: object):
    """Mark a test as the one for these table entries (command classes or event types)."""
    COVERED.update(messages)
    return lambda test: test


def record(**changes) -> RecordComplaint:
    fields = {
        "channel": Channel.PHONE,
        "category": Category.QUALITY,
        "customer": Customer(name="王女士", phone="13912345678", email="wang@example.com"),
        "description": "酸奶过期",
        "actor_id": "desk1",
        "actor_role": "service_desk",
        "merchant_code": "3F-12",
    }
    return RecordComplaint(**{**fields, **changes})


def recorded(uow: FakeUnitOfWork, **changes):
    return COMMAND_HANDLERS[RecordComplaint](record(**changes), uow, context()).complaint


def handle(command, uow: FakeUnitOfWork):
    return COMMAND_HANDLERS[type(command)](command, uow, context())


def event(event_type: str, complaint_id: str | None, payload: dict, at: datetime | None = None) -> Envelope:
    at = at or datetime(2026, 11, 22, 3, tzinfo=UTC)
    return Envelope(
        type=event_type,
        mall_id=MALL,
        actor=ROUTING,
        payload=payload,
        occurred_at=at,
        complaint_id=complaint_id,
    )


@covers(RecordComplaint)
def test_a_recorded_complaint_takes_the_days_number_and_announces_itself_with_it():
    uow = FakeUnitOfWork()
    first, second = recorded(uow), recorded(uow, email_thread={"message_id": "<m1@x>", "subject": "投诉"})

    assert (first.number, second.number) == ("TS-20261122-0001", "TS-20261122-0002")
    assert first.merchant.shop_name == "优品酸奶" and first.floor == "3F"
    announced = uow.of_type(COMPLAINT_RECEIVED)
    assert [e.payload["number"] for e in announced] == [first.number, second.number]
    assert "email_thread" not in announced[0].payload
    assert announced[1].payload["email_thread"]["message_id"] == "<m1@x>"


@covers(CheckComplaint)
def test_a_draft_the_schema_refused_is_judged_by_the_rules_on_what_was_read_and_nothing_is_written():
    uow = FakeUnitOfWork()
    draft = record(channel=None, customer=Customer(name="王女士"), merchant_code=None, department="nowhere")

    errors = handle(CheckComplaint(draft, frozenset({"channel", "floor"})), uow)

    assert errors == {
        "department": ["unknown department 'nowhere'"]
    }  # no phone asked: the channel is unknown
    assert uow.complaints.rows == {} and uow.of_type(COMPLAINT_RECEIVED) == []


def test_a_retry_with_the_same_key_answers_the_first_complaint_and_takes_no_number():
    uow = FakeUnitOfWork()
    first = handle(record(idempotency_key="k1", fingerprint="f1"), uow)
    again = handle(record(idempotency_key="k1", fingerprint="f1"), uow)

    assert again.replayed and again.complaint == first.complaint
    assert len(uow.complaints.rows) == 1 and len(uow.of_type(COMPLAINT_RECEIVED)) == 1
    assert uow.complaints.counters == {(MALL, date(2026, 11, 22)): 1}
    with pytest.raises(Conflict):
        handle(record(idempotency_key="k1", fingerprint="another body"), uow)


def test_an_incomplete_complaint_is_refused_naming_the_field_and_nothing_is_recorded():
    uow = FakeUnitOfWork()
    with pytest.raises(InvalidInput) as refused:
        handle(record(floor="9F"), uow)

    assert "floor" in refused.value.fields
    assert uow.complaints.rows == {} and uow.published == [] and uow.complaints.counters == {}


@covers(CorrectComplaint)
def test_a_correction_keeps_the_old_value_in_the_history_and_announces_what_changed():
    uow = FakeUnitOfWork()
    complaint = recorded(uow)
    command = CorrectComplaint(complaint.id, {"people_count": 12}, "核实人数", "desk1", "service_desk")

    corrected = handle(command, uow)

    assert corrected.version == 2 and corrected.severity is Severity.MAJOR
    assert uow.complaints.rows[complaint.id] == corrected
    assert uow.complaints.history(complaint.id)[0]["changes"]["people_count"] == {"old": 1, "new": 12}
    assert uow.of_type(COMPLAINT_CORRECTED)[0].payload["reason"] == "核实人数"
    assert handle(command, uow).version == 2  # nothing changes a second time: no new version, no event
    assert len(uow.of_type(COMPLAINT_CORRECTED)) == 1
    with pytest.raises(NotFound):
        handle(CorrectComplaint("00000000-0000-4000-8000-000000000000", {}, "x", "desk1", None), uow)


@covers(LinkComplaints)
def test_two_complaints_are_linked_once_and_a_complaint_never_to_itself():
    uow = FakeUnitOfWork()
    first, second = recorded(uow), recorded(uow)

    assert handle(LinkComplaints(first.id, second.id, "desk1", None), uow) is True
    assert handle(LinkComplaints(second.id, first.id, "desk1", None), uow) is False
    with pytest.raises(InvalidInput):
        handle(LinkComplaints(first.id, first.id, "desk1", None), uow)
    with pytest.raises(NotFound):
        handle(LinkComplaints(first.id, "00000000-0000-4000-8000-000000000000", "desk1", None), uow)


@covers(MergeComplaints)
def test_merged_complaints_add_their_people_to_the_collective_one_and_each_is_announced():
    uow = FakeUnitOfWork()
    into, *others = (recorded(uow, people_count=count) for count in (3, 4, 5))

    collective = handle(MergeComplaints(into.id, tuple(o.id for o in others), "同一事件", "ops", "ops"), uow)

    assert collective.people_count == 12 and collective.severity is Severity.MAJOR
    merged = uow.of_type(COMPLAINT_MERGED)
    assert [e.complaint_id for e in merged] == [o.id for o in others]
    assert {e.payload["into_number"] for e in merged} == {into.number}
    with pytest.raises(Conflict):
        handle(MergeComplaints(into.id, (others[0].id,), "again", "ops", "ops"), uow)


@covers(ExportCustomerData)
def test_a_customers_copy_holds_their_complaints_with_history_and_the_request_is_audited_masked():
    uow = FakeUnitOfWork()
    mine, _ = recorded(uow), recorded(uow, customer=Customer(name="李先生", phone="13800000000"))

    exported = handle(ExportCustomerData("13912345678", "客户来电要求 13912345678", "ops", "ops"), uow)

    assert [c.id for c in exported.complaints] == [mine.id]
    assert exported.request.kind is RequestKind.EXPORT and exported.request.numbers == (mine.number,)
    assert "13912345678" not in exported.request.reason
    assert uow.privacy.requests == [exported.request] and uow.commits


@covers(EraseCustomerData)
def test_a_customers_erasure_erases_intakes_copy_and_asks_every_service_for_theirs():
    uow = FakeUnitOfWork()
    mine = recorded(uow)

    request = handle(EraseCustomerData("wang@example.com", "客户要求删除", "ops", "ops"), uow)

    assert request.complaint_ids == (mine.id,) and uow.privacy.erased == [mine.id]
    asked = uow.of_type(RETENTION_ERASURE_REQUESTED)
    assert [e.payload["complaint_ids"] for e in asked] == [[mine.id]]


@covers(AttachFiles)
def test_files_are_kept_with_their_rows_or_not_at_all():
    uow = FakeUnitOfWork()
    complaint = recorded(uow)

    kept = handle(AttachFiles(complaint.id, (("小票.pdf", PDF),), "staff", "desk1", "service_desk"), uow)

    assert [a.file_name for a in kept] == ["小票.pdf"] and uow.attachments.rows == kept
    assert uow.objects.files == {kept[0].object_key: PDF}
    with pytest.raises(InvalidInput):
        handle(AttachFiles(complaint.id, (("a.pdf", PDF), ("empty.pdf", b"")), "staff", "desk1", None), uow)
    assert len(uow.objects.files) == 1


@covers(CheckFiles)
def test_checking_files_judges_them_as_keeping_would_and_keeps_nothing():
    uow = FakeUnitOfWork()

    assert handle(CheckFiles((("小票.pdf", PDF), ("b.pdf", PDF))), uow) == 2
    with pytest.raises(InvalidInput, match=r"fake\.png"):
        handle(CheckFiles((("小票.pdf", PDF), ("fake.png", "只是文字".encode()))), uow)
    assert uow.objects.files == {} and uow.attachments.rows == [] and uow.commits == 0 and not uow.published


def test_files_already_stored_are_deleted_when_a_later_row_cannot_be_kept():
    uow = FakeUnitOfWork()
    complaint = recorded(uow)
    keep = uow.attachments.add

    def second_refused(attachment):
        if uow.attachments.rows:
            raise RuntimeError("the database went away")
        keep(attachment)

    uow.attachments.add = second_refused
    files = (("a.pdf", PDF), ("b.pdf", PDF))
    with pytest.raises(RuntimeError):
        handle(AttachFiles(complaint.id, files, "staff", "desk1", None), uow)
    first_key = uow.attachments.rows[0].object_key
    assert first_key not in uow.objects.files and uow.rollbacks


@covers(*TASK_EVENTS)
@pytest.mark.parametrize("task_event", TASK_EVENTS)
def test_a_task_event_keeps_who_holds_the_task_and_a_late_older_one_changes_nothing(task_event):
    uow, at = FakeUnitOfWork(), datetime(2026, 11, 22, 3, tzinfo=UTC)
    payload = {
        "task_id": "t1",
        "queue": "floor_supervisor",
        "floor": "3F",
        "assignee": "floor3",
        "data": {"resolution": " 已退款 "},
    }

    EVENT_HANDLERS[task_event](event(task_event, "c1", payload, at), uow, context())
    EVENT_HANDLERS[task_event](event(TASK_CANCELLED, "c1", payload, at - timedelta(hours=1)), uow, context())

    holder = uow.holders.tasks["t1"]
    assert holder.open is (task_event in OPENING) and holder.assignee == "floor3"
    assert uow.complaints.resolutions == ({"c1": ["已退款"]} if task_event == TASK_COMPLETED else {})


@covers(*PROGRESS_EVENTS)
@pytest.mark.parametrize("stage_event", PROGRESS_EVENTS)
def test_a_stage_event_moves_the_case_and_a_postponement_keeps_its_stage_with_the_new_date(stage_event):
    uow = FakeUnitOfWork()
    payload = {"data": {"new_reply_date": "2026-12-01"}}

    EVENT_HANDLERS[stage_event](event(stage_event, "c1", payload), uow, context())
    EVENT_HANDLERS[stage_event](event(stage_event, None, payload), uow, context())  # no case: nothing

    change = uow.progress.cases["c1"]
    assert change.keeps_stage is (stage_event == POSTPONED)
    assert change.postponed_to == (date(2026, 12, 1) if stage_event == POSTPONED else None)
    assert list(uow.progress.cases) == ["c1"]


@covers(NOTIFICATION_REQUESTED)
def test_a_notice_asking_a_department_to_act_lets_that_department_read_the_complaint():
    uow = FakeUnitOfWork()
    asked = {"kind": "assist_requested", "to": "department_manager", "department": "engineering"}

    EVENT_HANDLERS[NOTIFICATION_REQUESTED](event(NOTIFICATION_REQUESTED, "c1", asked), uow, context())
    EVENT_HANDLERS[NOTIFICATION_REQUESTED](event(NOTIFICATION_REQUESTED, "c1", asked), uow, context())
    EVENT_HANDLERS[NOTIFICATION_REQUESTED](event(NOTIFICATION_REQUESTED, None, asked), uow, context())
    no_department = {"kind": "overdue", "to": "department_manager"}
    EVENT_HANDLERS[NOTIFICATION_REQUESTED](event(NOTIFICATION_REQUESTED, "c2", no_department), uow, context())

    assert uow.holders.told == {("c1", "engineering")}


@covers(RETENTION_ERASURE_REQUESTED)
def test_retentions_request_erases_intakes_copy_and_answers_with_what_it_found():
    uow = FakeUnitOfWork()
    mine = recorded(uow)
    request = {"complaint_ids": [mine.id, "00000000-0000-4000-8000-000000000000"], "reason": "expired"}

    EVENT_HANDLERS[RETENTION_ERASURE_REQUESTED](
        event(RETENTION_ERASURE_REQUESTED, None, request), uow, context()
    )

    answer = uow.of_type(RETENTION_ERASED)
    assert [e.payload for e in answer] == [{"service": "intake", "complaint_ids": [mine.id]}]
    assert uow.complaints.rows[mine.id].customer.phone is None


def test_every_handler_in_the_tables_has_a_test_here():
    assert set(COMMAND_HANDLERS) | set(EVENT_HANDLERS) == COVERED
