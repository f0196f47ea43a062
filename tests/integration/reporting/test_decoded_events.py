"""A process's decoded events against the real PostgreSQL: a case read again decodes only the events
it has not seen, and what it gives is always what the database holds (an erased event read again,
a rolled-back one gone)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg
from psycopg.rows import dict_row

from services.common.bus.envelope import Actor, event
from services.common.bus.events import COMPLAINT_RECEIVED, TASK_COMPLETED, TASK_CREATED
from services.reporting.adapters.events import DecodedEvents, EventStore

AT = datetime(2026, 11, 22, 2, 0, tzinfo=UTC)
DESK = Actor("desk-1", "service_desk")


def _event(complaint_id: str, event_type: str, minutes: int, **payload):
    return event(
        event_type,
        mall_id="demo",
        actor=DESK,
        at=AT + timedelta(minutes=minutes),
        payload={"task_id": f"{complaint_id}-{minutes}", **payload},
        about=complaint_id,
    )


def _keep(conn, *envelopes) -> None:
    EventStore(conn).add_many([(envelope, False) for envelope in envelopes])


def _as_stored(found: dict) -> dict:
    """Each case's events as comparable values, in a stable order."""
    return {
        complaint_id: sorted((each.id, each.type, each.occurred_at, repr(each.payload)) for each in events)
        for complaint_id, events in found.items()
    }


def test_a_case_read_again_decodes_only_its_new_events_and_gives_what_the_database_holds(db_url):
    decoded = DecodedEvents()
    with psycopg.connect(db_url, row_factory=dict_row, autocommit=True) as conn:
        _keep(conn, *[_event("a", TASK_CREATED, n) for n in range(3)], _event("b", TASK_CREATED, 0))
        store = EventStore(conn, decoded)

        first, stored_first = store.of_cases(["a", "b"]), EventStore(conn).of_cases(["a", "b"])
        _keep(conn, _event("a", TASK_COMPLETED, 5, data={"resolution": "已退款"}))
        second, stored_second = store.of_cases(["a", "b"]), EventStore(conn).of_cases(["a", "b"])

    assert decoded.decoded == 5  # four, then only the new one
    assert _as_stored(first) == _as_stored(stored_first)
    assert _as_stored(second) == _as_stored(stored_second)
    assert (len(second["a"]), len(second["b"])) == (4, 1)


def test_an_event_the_database_changed_is_read_again(db_url):
    decoded = DecodedEvents()
    customer = {"name": "张三", "phone": "13800138000"}
    with psycopg.connect(db_url, row_factory=dict_row, autocommit=True) as conn:
        _keep(conn, _event("a", COMPLAINT_RECEIVED, 0, customer=customer, description="张三的投诉"))
        store = EventStore(conn, decoded)
        before = store.of_cases(["a"])["a"][0].payload

        EventStore(conn).erase(["a"])  # retention's erasure rewrites the stored envelope
        after = store.of_cases(["a"])["a"][0].payload

    assert before["customer"]["phone"] == "13800138000"
    assert after["customer"].get("phone") is None
    assert "张三" not in after["description"]
    assert decoded.decoded == 2


def test_an_event_of_a_transaction_rolled_back_is_not_given_again(db_url):
    decoded = DecodedEvents()
    with psycopg.connect(db_url, row_factory=dict_row) as conn:
        _keep(conn, _event("a", TASK_CREATED, 0))
        conn.commit()
        store = EventStore(conn, decoded)
        _keep(conn, _event("a", TASK_COMPLETED, 1))
        assert len(store.of_cases(["a"])["a"]) == 2
        conn.rollback()

        assert [each.type for each in store.of_cases(["a"])["a"]] == [TASK_CREATED]


def test_the_cases_used_longest_ago_are_let_go_past_the_limit():
    decoded = DecodedEvents(limit=3)
    decoded.keep({"a": {"a1": "A1", "a2": "A2"}}, decoded=2)
    decoded.keep({"b": {"b1": "B1"}}, decoded=1)
    decoded.of(["a"])  # reading holds nothing longer: only a keep counts as a use
    decoded.keep({"b": {"b1": "B1", "b2": "B2"}}, decoded=1)

    assert decoded.of(["a"]) == {}
    assert decoded.of(["b"]) == {"b1": "B1", "b2": "B2"}
