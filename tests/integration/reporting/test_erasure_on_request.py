"""A customer's erasure request (PIPL), as reporting hears it from intake: its copy of the customer
goes as retention's does, the counts stay, and what arrives later is kept without the customer."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime, timedelta

from kombu import Connection

from services.common.bus.envelope import Actor, Envelope
from services.reporting.service_layer.context import OWN
from tests.integration.reporting.conftest import table
from tests.support.stories import Round, Story, events

AT = datetime(2026, 11, 2, 2, tzinfo=UTC)
ADMIN = Actor("root", "admin")


def story(**changes) -> Story:
    return Story(received_at=AT, rounds=[Round(AT + timedelta(hours=5), AT + timedelta(hours=6))], **changes)


def asked(complaint_ids: list[str], actor: Actor = ADMIN) -> Envelope:
    return Envelope(
        type="retention.erasure_requested",
        mall_id="demo",
        actor=actor,
        occurred_at=AT + timedelta(days=3),
        payload={"complaint_ids": complaint_ids, "reason": "request", "request_id": str(uuid.uuid4())},
    )


def monthly(api, staff) -> dict:
    answer = api.get("/reports/monthly?month=2026-11", headers=staff("operations_manager")).json
    return {key: value for key, value in answer.items() if key != "generated_at"}


def test_a_customers_request_erases_reportings_copy_keeps_the_counts_and_is_kept_for_rebuilds(
    feed, reporting, api, staff
):
    mine, other = story(), story(customer={"name": "李先生", "phone": "13600002222", "email": None})
    feed(events(mine) + events(other))
    before = monthly(api, staff)

    feed([asked([mine.id])])

    cases = {row["complaint_id"]: row for row in table(reporting, "cases", "complaint_id")}
    assert (cases[mine.id]["customer_name"], cases[mine.id]["customer_phone"]) == (None, None)
    assert cases[mine.id]["erased_at"] is not None and cases[other.id]["customer_phone"] == "13600002222"
    stored = [
        row["envelope"] for row in table(reporting, "events", "occurred_at") if row["complaint_id"] == mine.id
    ]
    assert stored and not any("13912345678" in str(item) or "王女士" in str(item) for item in stored)
    [request] = table(reporting, "retention_requests", "requested_at")
    assert (request["complaint_ids"], request["reason"], request["closed_before"]) == (
        [mine.id],
        "request",
        None,
    )
    assert monthly(api, staff) == before


def test_an_event_arriving_after_the_request_or_for_a_case_not_derived_yet_is_kept_without_the_customer(
    feed, reporting
):
    early, unseen = story(), story()
    feed(events(early)[:1])

    feed([asked([early.id, unseen.id])])
    feed(events(early)[1:] + events(unseen))
    late = dataclasses.replace(events(early)[0], id=str(uuid.uuid4()))  # complaint.received, sent again
    feed([late])

    for row in table(reporting, "cases", "complaint_id"):
        assert (row["customer_name"], row["customer_phone"], row["erased_at"] is not None) == (
            None,
            None,
            True,
        )
        assert row["number"] and row["category"] == "price"  # derived, counted
    assert not any("13912345678" in str(row["envelope"]) for row in table(reporting, "events", "occurred_at"))


def test_reportings_own_retention_request_coming_back_is_only_kept(feed, reporting):
    mine = story()
    feed(events(mine))

    feed(
        [
            dataclasses.replace(
                asked([mine.id], OWN), payload={"complaint_ids": [mine.id], "closed_before": "2026-11-01"}
            )
        ]
    )

    [case] = table(reporting, "cases", "complaint_id")
    assert case["customer_phone"] == "13912345678" and case["erased_at"] is None
    assert table(reporting, "retention_requests", "requested_at") == []


def test_a_batch_keeps_its_events_together_and_an_erasure_inside_it_reaches_the_cases_later_events(
    reporting, monkeypatch
):
    """A consumer batch is one transaction with one unit of work: its events are kept together (their
    cases locked by one statement, each case derived once), those before an erasure in the batch
    before it, and the case's events after it are kept without the customer."""
    from services.reporting.adapters.cases import CaseStore
    from services.reporting.adapters.events import EventStore

    locks, saves = [], []
    lock_cases, save_many = EventStore.lock_cases, CaseStore.save_many

    def counting_locks(store, complaint_ids):
        locks.append(list(complaint_ids))
        return lock_cases(store, complaint_ids)

    def counting_saves(store, derived):
        saves.extend(facts.complaint_id for facts, *_ in derived)
        return save_many(store, derived)

    monkeypatch.setattr(EventStore, "lock_cases", counting_locks)
    monkeypatch.setattr(CaseStore, "save_many", counting_saves)
    consumer = reporting.consumer(Connection("memory://"))
    mine, other = story(), story(customer={"name": "李先生", "phone": "13600002222", "email": None})
    first, *rest = events(mine)
    batch = [first, *events(other), asked([mine.id]), *rest]
    deliveries = [(envelope, consumer.handlers.get(envelope.type, consumer.fallback)) for envelope in batch]

    assert all(consumer.apply_all(deliveries))

    # Before the erasure, both cases (one statement); the erasure's own; after it, the events left.
    assert locks == [sorted({mine.id, other.id}), [mine.id], [mine.id]]
    assert sorted(saves) == sorted([mine.id, other.id, mine.id])  # each case once per part of the batch
    cases = {row["complaint_id"]: row for row in table(reporting, "cases", "complaint_id")}
    assert cases[mine.id]["customer_phone"] is None and cases[other.id]["customer_phone"] == "13600002222"
    assert not any(
        "13912345678" in str(row["envelope"])
        for row in table(reporting, "events", "occurred_at")
        if row["complaint_id"] == mine.id
    )
