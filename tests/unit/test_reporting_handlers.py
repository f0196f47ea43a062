"""Reporting's handlers, each given an in-memory unit of work (tests/unit/fakes/reporting.py): no
PostgreSQL, no RabbitMQ. Every entry of COMMAND_HANDLERS and EVENT_HANDLERS has a test here, marked
`@covers(...)`; the last test holds the tables and the marks together."""

from __future__ import annotations

import random
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

import pytest

from services.common.bus.envelope import Actor, Envelope
from services.common.bus.events import (
    CAPA_OPENED,
    EVENTS,
    RETENTION_ERASED,
    RETENTION_ERASURE_REQUESTED,
    TASK_CLAIMED,
)
from services.common.bus.topology import SUBSCRIPTIONS
from services.common.errors import Conflict, InvalidInput, NotFound
from services.common.messagebus import MessageBus
from services.reporting.bootstrap import EVENTS_QUEUE
from services.reporting.domain.commands import RebuildReadModel, RunRetention, UpdateCapa
from services.reporting.domain.facts import reads
from services.reporting.service_layer.context import OWN
from services.reporting.service_layer.handlers import (
    CASE_EVENTS,
    COMMAND_HANDLERS,
    EVENT_HANDLERS,
    KEPT_EVENTS,
)
from tests.support.stories import Round, Story, events
from tests.unit.fakes.reporting import MALL, FakeUnitOfWork, context

COVERED: set[object] = set()
TABLES = MessageBus(FakeUnitOfWork, None, COMMAND_HANDLERS, EVENT_HANDLERS)  # its lookup of a handler
ROUTING = Actor("routing", "service")
ADMIN = Actor("admin-1", "admin")
AT = datetime(2026, 11, 20, 2, tzinfo=UTC)


def covers(*messages: object):
    """Mark a test as the one for these table entries (command classes or event types)."""
    COVERED.update(messages)
    return lambda test: test


def envelope(event_type: str, complaint_id: str | None, payload: dict, actor: Actor = ROUTING) -> Envelope:
    return Envelope(
        type=event_type, mall_id=MALL, actor=actor, payload=payload, occurred_at=AT, complaint_id=complaint_id
    )


def feed(uow: FakeUnitOfWork, envelopes: Iterable[Envelope], now: datetime = AT) -> int:
    """Hand each envelope to its handler, as the consumer does; how many were kept (one handed over
    again, past the consumer's inbox, is not kept twice)."""
    before = len(uow.events.rows)
    for each in envelopes:
        TABLES.handler_of(each.type)(each, uow, context(now))
    return len(uow.events.rows) - before


def handle(command, uow: FakeUnitOfWork, now: datetime = AT):
    return COMMAND_HANDLERS[type(command)](command, uow, context(now))


def closed_story(at: datetime, **changes) -> Story:
    return Story(
        received_at=at,
        rounds=[Round(at + timedelta(hours=5), at + timedelta(hours=6), at + timedelta(hours=30))],
        closed_at=at + timedelta(hours=31),
        **changes,
    )


def same_problem(days: list[int]) -> list[Story]:
    return [
        Story(received_at=AT + timedelta(days=day), category="quality", merchant="M-2F-003") for day in days
    ]


@covers(*CASE_EVENTS)
@pytest.mark.parametrize("event_type", CASE_EVENTS)
def test_a_case_event_is_kept_once_under_the_cases_lock_and_derives_the_case_when_a_fact_reads_it(event_type):
    uow = FakeUnitOfWork()
    first = envelope(event_type, "c1", {"task_id": "t1", "data": {}})

    EVENT_HANDLERS[event_type](first, uow, context())
    EVENT_HANDLERS[event_type](first, uow, context())  # handed over again: the store knows it

    assert list(uow.events.rows) == [first.id]
    assert uow.events.locked == ["c1", "c1"]
    assert ("c1" in uow.cases.rows) is reads(event_type, first.payload)
    assert len(uow.cases.saves) == (1 if reads(event_type, first.payload) else 0)  # derived once


def test_a_cases_stream_gives_the_same_facts_whatever_order_it_arrives_in_and_writes_only_what_changes():
    story = closed_story(AT)
    stream = events(story)
    shuffled = random.Random(7).sample(stream, len(stream))
    in_order, out_of_order = FakeUnitOfWork(), FakeUnitOfWork()

    assert feed(in_order, stream) == len(stream)
    feed(out_of_order, shuffled)

    facts = in_order.cases.rows[story.id]
    assert facts == out_of_order.cases.rows[story.id]
    assert (facts.number, facts.closed_at, len(facts.callbacks)) == (story.number, story.closed_at, 1)
    read = [each for each in stream if each.type in EVENT_HANDLERS and reads(each.type, each.payload)]
    assert len(in_order.cases.saves) == len(read)  # an event no fact reads derives nothing
    assert not in_order.capa.records


def test_a_problem_met_three_times_in_the_window_opens_one_capa_record_and_announces_it():
    uow = FakeUnitOfWork()
    stories = same_problem([0, 3, 9])

    feed(uow, (each for story in stories for each in events(story)))
    feed(uow, (each for story in stories for each in events(story)))  # redelivered: nothing more

    [record] = uow.capa.records.values()
    assert set(record["complaint_ids"]) == {story.id for story in stories}
    [opened] = uow.of_type(CAPA_OPENED)
    assert opened.payload["problem_key"] == "quality|merchant:M-2F-003" and opened.actor == OWN
    assert opened.payload["queue"] == "operations_manager"


@covers(*KEPT_EVENTS)
@pytest.mark.parametrize("event_type", KEPT_EVENTS)
def test_an_event_no_fact_reads_is_kept_and_nothing_more(event_type):
    uow = FakeUnitOfWork()
    about = "c1" if event_type == TASK_CLAIMED else None
    kept = envelope(event_type, about, {"task_id": "t1", "floors": [], "departments": []})

    EVENT_HANDLERS[event_type](kept, uow, context())
    EVENT_HANDLERS[event_type](kept, uow, context())  # handed over again: kept once

    assert list(uow.events.rows) == [kept.id]
    assert uow.events.locked == ([about, about] if about else [])  # a case's event waits for its case
    assert not uow.cases.rows


@covers(RETENTION_ERASURE_REQUESTED)
def test_a_customers_erasure_request_erases_reportings_copy_and_later_events_come_without_the_customer():
    uow = FakeUnitOfWork()
    mine, other = closed_story(AT), closed_story(AT)
    feed(uow, events(mine) + events(other))
    asked = envelope(RETENTION_ERASURE_REQUESTED, None, {"complaint_ids": [mine.id], "reason": "x"}, ADMIN)

    assert feed(uow, [asked, asked]) == 1

    assert set(uow.cases.erased) == {mine.id}
    assert uow.events.locked[-1] == mine.id
    assert {event.id for event in uow.events.of_case(mine.id)} <= uow.events.without_personal_data
    assert not {event.id for event in uow.events.of_case(other.id)} & uow.events.without_personal_data
    assert [request["complaint_ids"] for request in uow.retention.requests.values()] == [[mine.id]]
    late = envelope(TASK_CLAIMED, mine.id, {"task_id": "t9"})
    feed(uow, [late])
    assert late.id in uow.events.without_personal_data


def test_reportings_own_retention_request_coming_back_is_only_kept():
    uow = FakeUnitOfWork()
    story = closed_story(AT)
    feed(uow, events(story))
    own = envelope(RETENTION_ERASURE_REQUESTED, None, {"complaint_ids": [story.id]}, OWN)

    assert feed(uow, [own]) == 1

    assert own.id in uow.events.rows
    assert not uow.cases.erased and not uow.retention.requests


@covers(RETENTION_ERASED)
def test_a_services_answer_to_a_retention_request_is_remembered_once():
    uow = FakeUnitOfWork()
    answer = envelope(RETENTION_ERASED, None, {"service": "intake", "complaint_ids": ["c1", "c2"]})

    assert feed(uow, [answer, answer]) == 1

    assert uow.retention.answers == {("intake", "c1"), ("intake", "c2")}
    assert answer.id in uow.events.rows


@covers(UpdateCapa)
def test_the_operations_manager_fills_in_a_capa_record_and_verifies_it_as_the_rules_allow():
    uow = FakeUnitOfWork()
    feed(uow, (each for story in same_problem([0, 3, 9]) for each in events(story)))
    [capa_id] = uow.capa.records

    def update(**fields):
        return handle(UpdateCapa(mall_id=MALL, capa_id=capa_id, actor_id="ops-1", **fields), uow)

    worked = update(changes={"cause": "冷柜坏了", "action": "换冷柜"}, expected_version=1)
    assert (worked["status"], worked["version"], worked["updated_by"]) == ("in_progress", 2, "ops-1")
    with pytest.raises(Conflict):
        update(changes={"owner": "店长"}, expected_version=1)  # someone changed it since
    with pytest.raises(InvalidInput) as refused:
        update(status="verified")
    assert set(refused.value.fields) == {"owner", "verification"}
    with pytest.raises(InvalidInput):
        update()  # nothing to update
    verified = update(changes={"owner": "店长", "verification": "一月无投诉"}, status="verified")
    assert (verified["status"], verified["verified_by"]) == ("verified", "ops-1")
    with pytest.raises(Conflict):
        update(changes={"cause": "again"})  # verified records are closed
    with pytest.raises(NotFound):
        handle(UpdateCapa(mall_id=MALL, capa_id="nope", actor_id="ops-1", changes={"cause": "x"}), uow)


@covers(RunRetention)
def test_retention_lists_when_dry_then_erases_the_cases_closed_too_long_ago_and_asks_every_service():
    uow = FakeUnitOfWork()
    old, recent = closed_story(datetime(2024, 3, 1, 2, tzinfo=UTC)), closed_story(AT)
    feed(uow, events(old) + events(recent))
    now = datetime(2026, 12, 3, 2, tzinfo=UTC)

    dry = handle(RunRetention(dry_run=True), uow, now)
    assert [case["complaint_id"] for case in dry.cases] == [old.id] and not uow.cases.erased

    done = handle(RunRetention(), uow, now)
    assert [case["complaint_id"] for case in done.cases] == [old.id] and done.batches == 1
    assert set(uow.cases.erased) == {old.id}
    [asked] = uow.of_type(RETENTION_ERASURE_REQUESTED)
    assert asked.payload["complaint_ids"] == [old.id] and asked.actor == OWN
    assert handle(RunRetention(), uow, now).cases == []  # asked once only

    uow.retention.job_running_elsewhere = True
    assert handle(RunRetention(), uow, now).skipped


@covers(RebuildReadModel)
def test_a_rebuild_derives_every_case_again_and_keeps_erased_cases_erased():
    uow = FakeUnitOfWork()
    stories = [closed_story(datetime(2024, 3, 1, 2, tzinfo=UTC)), *same_problem([0, 3, 9])]
    feed(uow, (each for story in stories for each in events(story)))
    handle(RunRetention(), uow, datetime(2026, 12, 3, 2, tzinfo=UTC))
    live = dict(uow.cases.rows)

    assert handle(RebuildReadModel(batch_size=2), uow) == len(stories)

    assert uow.cases.rows == live
    assert set(uow.cases.erased) == {stories[0].id}
    assert len(uow.capa.records) == 1  # the record stays; the recurrence found again joins it


@covers(*SUBSCRIPTIONS[EVENTS_QUEUE])
def test_an_event_of_a_type_this_version_does_not_know_is_kept_for_a_later_rebuild():
    uow = FakeUnitOfWork()
    newer = envelope("complaint.merchant_answered", "c1", {"answer": "已退款"})

    assert feed(uow, [newer, newer]) == 1  # handed over again: kept once

    assert list(uow.events.rows) == [newer.id] and "c1" not in uow.cases.rows


def test_every_event_type_reporting_is_bound_to_has_a_handler_of_its_own():
    patterns = [pattern.removesuffix(".#") + "." for pattern in SUBSCRIPTIONS[EVENTS_QUEUE]]
    bound = {name for name in EVENTS if name.startswith(tuple(patterns))}
    assert {key for key in EVENT_HANDLERS if "#" not in key} == bound


def test_every_handler_in_the_tables_has_a_test_here():
    assert set(COMMAND_HANDLERS) | set(EVENT_HANDLERS) == COVERED
