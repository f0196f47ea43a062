"""Notify's handlers, each given an in-memory unit of work (tests/unit/fakes/notify.py): no
PostgreSQL, no RabbitMQ, no mail server (the handlers plan deliveries; the worker sends them). Every
entry of COMMAND_HANDLERS and EVENT_HANDLERS has a test here, marked `@covers(...)`; the last test
holds the tables and the marks together."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from services.common.bus.envelope import Actor, Envelope
from services.common.bus.events import (
    CAPA_OPENED,
    COMPLAINT_CORRECTED,
    COMPLAINT_RECEIVED,
    NOTIFICATION_FAILED,
    NOTIFICATION_REQUESTED,
    RETENTION_ERASED,
    RETENTION_ERASURE_REQUESTED,
)
from services.common.errors import Conflict, NotFound
from services.notify.domain.commands import MarkRead, RetryDelivery
from services.notify.domain.model import StaffMember
from services.notify.service_layer.handlers import COMMAND_HANDLERS, EVENT_HANDLERS
from tests.unit.fakes.notify import MALL, NOW, FakeUnitOfWork, context

COVERED: set[object] = set()
OPS = StaffMember("ops", "营运部经理 陈敏", ("operations_manager",))
BY_EMAIL = {"email": "wang@example.com", "preferred_reply_channel": "email"}


def covers(*messages: object):
    """Mark a test as the one for these table entries (command classes or event types)."""
    COVERED.update(messages)
    return lambda test: test


def handle(message, uow: FakeUnitOfWork):
    if isinstance(message, Envelope):
        return EVENT_HANDLERS[message.type](message, uow, context())
    return COMMAND_HANDLERS[type(message)](message, uow, context())


def envelope(
    event_type: str, payload: dict, complaint_id: str | None = None, by: str = "routing"
) -> Envelope:
    return Envelope(
        type=event_type,
        mall_id=MALL,
        actor=Actor(by, "service"),
        occurred_at=NOW,
        payload=payload,
        complaint_id=complaint_id,
    )


def received(complaint_id: str | None = None, **customer) -> Envelope:
    """complaint.received as intake publishes it (the fields notify keeps): a 3F shop, by phone."""
    complaint_id = complaint_id or str(uuid.uuid4())
    payload = {
        "id": complaint_id,
        "number": "TS-20261122-0001",
        "channel": "phone",
        "category": "merchant_service",
        "customer": {
            "name": "王女士",
            "phone": "13912345678",
            "preferred_reply_channel": "phone",
            **customer,
        },
        "floor": "3F",
        "promised_reply_date": "2026-11-25",
        "received_at": "2026-11-22T02:00:00+00:00",
    }
    return envelope(COMPLAINT_RECEIVED, payload, complaint_id, by="intake")


def requested(complaint_id: str, kind: str = "acknowledgement", to: str = "customer") -> Envelope:
    payload = {"kind": kind, "to": to, "number": "TS-20261122-0001", "element_id": "start", "data": {}}
    return envelope(NOTIFICATION_REQUESTED, payload, complaint_id)


@covers(NOTIFICATION_REQUESTED)
def test_a_request_about_a_known_complaint_plans_one_message_once_however_often_it_arrives():
    uow = FakeUnitOfWork()
    complaint = received()
    handle(complaint, uow)
    request = requested(complaint.complaint_id)

    handle(request, uow)
    handle(request, uow)  # the broker's redelivery, past the consumer's inbox

    [delivery] = uow.deliveries.rows.values()
    assert (delivery.channel, delivery.address, delivery.state) == ("sms", "13912345678", "pending")
    assert "TS-20261122-0001" in delivery.sms_text and uow.deliveries.queued
    assert uow.requests.states[request.id] == "planned" and uow.commits == 3


@covers(COMPLAINT_RECEIVED)
def test_a_request_that_came_before_its_complaint_waits_and_is_planned_when_the_complaint_arrives():
    uow = FakeUnitOfWork()
    complaint = received(**BY_EMAIL)
    request = requested(complaint.complaint_id)

    handle(request, uow)
    assert uow.requests.states[request.id] == "waiting" and uow.deliveries.rows == {}

    handle(complaint, uow)

    [delivery] = uow.deliveries.rows.values()
    assert (delivery.channel, delivery.address) == ("email", "wang@example.com")
    assert uow.requests.states[request.id] == "planned"


@covers(COMPLAINT_CORRECTED)
def test_a_corrected_contact_gets_again_what_failed_to_reach_the_customer_and_nothing_else_does():
    uow = FakeUnitOfWork()
    complaint = received(**BY_EMAIL)
    handle(complaint, uow)
    handle(requested(complaint.complaint_id), uow)
    [bounced] = uow.deliveries.rows.values()
    uow.deliveries.rows[bounced.id].state = "failed"
    fixed = received(complaint.complaint_id, **{**BY_EMAIL, "email": "wang@right.example"})

    handle(corrected(fixed, {"description": {"old": "a", "new": "b"}}), uow)  # not the contact: nothing
    assert len(uow.deliveries.rows) == 1
    handle(
        corrected(fixed, {"customer.email": {"old": "wang@example.com", "new": "wang@right.example"}}), uow
    )

    again = uow.deliveries.of_request(bounced.request_id)
    assert [(d.address, d.state) for d in again] == [
        ("wang@example.com", "failed"),
        ("wang@right.example", "pending"),
    ]
    assert uow.complaints.get(complaint.complaint_id).customer.email == "wang@right.example"


def corrected(complaint: Envelope, changes: dict) -> Envelope:
    payload = {"complaint": complaint.payload, "changes": changes}
    return envelope(COMPLAINT_CORRECTED, payload, complaint.complaint_id, by="intake")


@covers(CAPA_OPENED)
def test_a_capa_record_reaches_the_operations_managers_inbox_about_the_complaint_that_made_it_recur():
    uow = FakeUnitOfWork(OPS)
    complaint = received()
    handle(complaint, uow)
    payload = {
        "capa_id": "5c7e3f0a-0000-4000-8000-000000000001",
        "merchant_name": "优品服饰",
        "occurrences": 3,
        "window_days": 30,
        "complaint_ids": [str(uuid.uuid4()), complaint.complaint_id],
        "numbers": ["TS-20261121-0002", "TS-20261122-0001"],
        "queue": "operations_manager",
    }

    handle(envelope(CAPA_OPENED, payload, by="reporting"), uow)

    [delivery] = uow.deliveries.rows.values()
    assert (delivery.kind, delivery.channel, delivery.address) == ("capa_opened", "inbox", "ops")
    assert delivery.complaint_id == complaint.complaint_id and "优品服饰" in delivery.subject


def test_a_staff_request_nobody_holds_is_announced_as_failed_and_the_desk_is_told():
    uow = FakeUnitOfWork(StaffMember("desk", "服务台 李静", ("service_desk",)))
    complaint = received()
    handle(complaint, uow)

    handle(requested(complaint.complaint_id, "escalated", "store_manager"), uow)

    [failed] = uow.of_type(NOTIFICATION_FAILED)
    assert failed.payload["reason"] == "no_recipient"
    alert = [d for d in uow.deliveries.rows.values() if d.kind == "delivery_failed"]
    assert [(d.channel, d.address) for d in alert] == [("inbox", "desk")]


@covers(RETENTION_ERASURE_REQUESTED)
def test_an_erasure_takes_the_customers_details_out_and_answers_with_the_complaints_notify_held():
    uow = FakeUnitOfWork()
    complaint = received(**BY_EMAIL)
    handle(complaint, uow)
    handle(requested(complaint.complaint_id), uow)
    asked = [complaint.complaint_id, str(uuid.uuid4()), "not-a-uuid"]

    handle(envelope(RETENTION_ERASURE_REQUESTED, {"complaint_ids": asked}, by="reporting"), uow)

    [answer] = uow.of_type(RETENTION_ERASED)
    assert answer.payload == {"service": "notify", "complaint_ids": [complaint.complaint_id]}
    assert uow.complaints.get(complaint.complaint_id).customer.email is None
    [delivery] = uow.deliveries.rows.values()
    assert "wang@example.com" not in delivery.address and delivery.body_text is None


@covers(MarkRead)
def test_marking_my_notification_read_keeps_the_first_time_and_anothers_is_not_found():
    uow = FakeUnitOfWork()
    uow.inbox.items["i1"] = {
        "id": "i1",
        "mall_id": MALL,
        "username": "ops",
        "complaint_id": None,
        "read_at": None,
    }

    first = handle(MarkRead("i1", MALL, "ops"), uow)
    again = COMMAND_HANDLERS[MarkRead](
        MarkRead("i1", MALL, "ops"), uow, context(datetime(2026, 11, 23, tzinfo=UTC))
    )

    assert first["read_at"] == again["read_at"] == NOW
    with pytest.raises(NotFound):
        handle(MarkRead("i1", MALL, "desk"), uow)


@covers(RetryDelivery)
def test_a_failed_delivery_is_retried_with_fresh_attempts_and_one_that_did_not_fail_is_refused():
    uow = FakeUnitOfWork()
    complaint = received(**BY_EMAIL)
    handle(complaint, uow)
    handle(requested(complaint.complaint_id), uow)
    [delivery] = uow.deliveries.rows.values()

    with pytest.raises(Conflict):
        handle(RetryDelivery(delivery.id, MALL), uow)  # still pending
    uow.deliveries.rows[delivery.id].state, uow.deliveries.rows[delivery.id].attempts = "failed", 5
    uow.deliveries.queued = False
    with pytest.raises(NotFound):
        handle(RetryDelivery(delivery.id, "another-mall"), uow)
    row = handle(RetryDelivery(delivery.id, MALL), uow)

    assert (row["state"], row["attempts"], row["next_attempt_at"]) == ("pending", 0, NOW)
    assert uow.deliveries.queued  # the commit wakes the delivery workers
    assert uow.rollbacks == 2


def test_every_handler_in_the_tables_has_a_test_here():
    assert set(COMMAND_HANDLERS) | set(EVENT_HANDLERS) == COVERED
