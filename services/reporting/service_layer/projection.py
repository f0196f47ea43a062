"""Each consumed event, in the consumer's transaction: keep it, derive its case again, look for recurrence.

The event is stored first and the case's facts are derived from every stored event of the case, so
the result is the same whatever order the events came in, and a redelivered event changes nothing.
Events of every type are kept, known or not: a rebuild replays exactly what was consumed. Only what an
event can change is done again: an event no fact reads is kept and nothing more; a case's escalations
and callbacks are written again only after an event that can change them.

The stored events are the consumer's inbox: an event kept already is a redelivery (`project` says so),
so reporting's consumer writes no inbox row of its own.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import psycopg

from services.common.bus.envelope import Actor, Envelope, event
from services.common.bus.events import (
    CAPA_OPENED,
    COMPLAINT_CORRECTED,
    COMPLAINT_RECEIVED,
    RETENTION_ERASED,
    RETENTION_ERASURE_REQUESTED,
)
from services.common.bus.outbox import OutboxWriter
from services.common.clock import Clock
from services.common.settings import Policy
from services.reporting.adapters.capa import CapaStore
from services.reporting.adapters.cases import CaseStore
from services.reporting.adapters.events import EventStore
from services.reporting.domain.capa import Occurrence, recurring_run
from services.reporting.domain.facts import changes_callbacks, changes_escalations, derive, reads
from services.reporting.domain.model import CaseFacts
from services.reporting.service_layer.erasure import erase_on_request

log = logging.getLogger(__name__)

SYSTEM = "reporting"
# The only events that can change a case's problem (category and place) or when it was received,
# hence the only ones after which it can join or start a recurrence (see CaseFacts.problem_key).
PROBLEM_EVENTS = frozenset({COMPLAINT_RECEIVED, COMPLAINT_CORRECTED})
OWN = Actor(SYSTEM, "service")  # who reporting's own events (its retention requests) come from


@dataclass(frozen=True)
class Context:
    """What the projection needs besides its connection."""

    mall_id: str
    zone: ZoneInfo
    policy: Policy
    clock: Clock
    outbox: OutboxWriter


def project(conn: psycopg.Connection, envelope: Envelope, context: Context) -> bool:
    """The consumer's handler for every event type; False when the event was kept already."""
    events = EventStore(conn)
    if envelope.complaint_id is None:
        if not events.add(envelope):
            return False
        if envelope.type == RETENTION_ERASED:
            record_erased(conn, envelope, context.clock.now())
        elif envelope.type == RETENTION_ERASURE_REQUESTED and envelope.actor != OWN:  # a customer asked
            erase_on_request(conn, envelope, context.clock.now())
        return True
    # Taken even for an event no fact reads: a late event of an erased case is kept without its
    # personal data, and an erasure on request holds this lock while it erases.
    erased = events.lock_case(envelope.complaint_id)
    if not reads(envelope.type, envelope.payload):
        return events.add(envelope, erase=erased)
    history = events.add_to_case(envelope, erase=erased)
    if history is None:  # kept already
        return False
    facts = derive(envelope.complaint_id, envelope.mall_id, history, context.zone)
    again = changes_escalations(envelope.type), changes_callbacks(envelope.type, envelope.payload)
    CaseStore(conn).save(facts, escalations=again[0], callbacks=again[1])
    # Only intake's record of the complaint can change its problem or receipt (see CaseFacts.problem_key).
    if envelope.type in PROBLEM_EVENTS and facts.problem_key and facts.received_at:
        check_recurrence(conn, facts, context)
    return True


def check_recurrence(conn: psycopg.Connection, facts: CaseFacts, context: Context) -> None:
    capa, key = CapaStore(conn), facts.problem_key
    capa.lock_problem(facts.mall_id, key)
    occurrence = Occurrence(facts.complaint_id, facts.number, facts.received_at)
    current = capa.current(facts.mall_id, key)
    window = context.policy.capa_window
    if current is not None:  # the problem goes on while its record is open: the complaint joins it
        if facts.received_at >= current["first_received_at"] - window:
            capa.add_occurrence(current["id"], occurrence)
        return
    cases, covered_until = CaseStore(conn), capa.last_verified_until(facts.mall_id, key)

    def fresh(start: datetime, end: datetime | None) -> list[Occurrence]:
        """Complaints of the problem no verified record covered."""
        found = cases.occurrences(facts.mall_id, key, start, end)
        return [item for item in found if covered_until is None or item.received_at > covered_until]

    run = recurring_run(
        fresh(facts.received_at - window, facts.received_at + window), context.policy.capa_recurrences, window
    )
    if (
        run
    ):  # the record covers the whole recurrence known, so it holds the same whatever order events came in
        _open_capa(conn, facts, fresh(run[0].received_at - window, None), context)


def _open_capa(conn: psycopg.Connection, facts: CaseFacts, run: list[Occurrence], context: Context) -> None:
    place = {
        "category": facts.category,
        "merchant_code": facts.merchant_code,
        "merchant_name": facts.merchant_name,
        "floor": facts.floor,
        "department": facts.department,
    }
    record = CapaStore(conn).open(facts.mall_id, facts.problem_key, place, run, context.clock.now())
    if record is None:
        return
    payload = {
        "capa_id": str(record["id"]),
        "problem_key": facts.problem_key,
        **place,
        "occurrences": len(run),
        "window_days": context.policy.capa_window.days,
        "complaint_ids": list(record["complaint_ids"]),
        "numbers": list(record["numbers"]),
        "queue": "operations_manager",
    }
    context.outbox.add(conn, _event(CAPA_OPENED, facts.mall_id, payload, context.clock.now()))
    log.info("CAPA record opened", extra={"capa_id": payload["capa_id"], "problem": facts.problem_key})


def record_erased(conn: psycopg.Connection, envelope: Envelope, at: datetime) -> None:
    """A service's answer to a retention request: remember who erased what."""
    service = envelope.payload["service"]
    with conn.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO reporting.retention_answers (service, complaint_id, erased_at) VALUES (%s, %s, %s)"
            " ON CONFLICT DO NOTHING",
            [(service, complaint_id, at) for complaint_id in envelope.payload["complaint_ids"]],
        )


def _event(event_type: str, mall_id: str, payload: dict, at: datetime) -> Envelope:
    return event(event_type, mall_id=mall_id, actor=OWN, at=at, payload=payload)
