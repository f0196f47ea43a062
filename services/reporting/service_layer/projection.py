"""Each consumed event, in the consumer's transaction: keep it, derive its case again, look for recurrence.

The events of a consumer's batch are kept together as its transaction ends (`StoredEvents`): their
cases locked (in one order, so two workers never wait for each other), the events stored by one
statement, and each case whose facts they can change derived once from every stored event of the
case, so the result is the same whatever order the events came in. Only what an event can change
is done again: an event no fact reads is kept and nothing more; a case's escalations and callbacks
are written again only after an event that can change them. A redelivered event stops at the
consumer's inbox; one that reaches a handler all the same (stored already) changes nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from services.common.bus.envelope import Envelope, event
from services.common.bus.events import CAPA_OPENED, COMPLAINT_CORRECTED, COMPLAINT_RECEIVED
from services.reporting.domain.capa import Occurrence, recurring_run
from services.reporting.domain.facts import changes_callbacks, changes_escalations, derive, reads
from services.reporting.domain.model import CaseFacts
from services.reporting.service_layer.context import OWN, Context
from services.reporting.service_layer.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

# The only events that can change a case's problem (category and place) or when it was received,
# hence the only ones after which it can join or start a recurrence (see CaseFacts.problem_key).
PROBLEM_EVENTS = frozenset({COMPLAINT_RECEIVED, COMPLAINT_CORRECTED})


def keep_event(envelope: Envelope, uow: UnitOfWork, context: Context) -> None:
    """An event no fact reads (or of no case, or of a type this version does not know): kept as the
    transaction ends, and its case not derived again."""
    with uow:
        _stored_events(uow, context).keep(envelope, derives=False)


def project_event(envelope: Envelope, uow: UnitOfWork, context: Context) -> None:
    """A case's event: kept as the transaction ends, and its case derived again if a fact reads it."""
    with uow:
        derives = envelope.complaint_id is not None and reads(envelope.type, envelope.payload)
        _stored_events(uow, context).keep(envelope, derives=derives)


def _stored_events(uow: UnitOfWork, context: Context) -> StoredEvents:
    return uow.at_end(StoredEvents, StoredEvents(uow, context))


class StoredEvents:
    """The events a transaction keeps, written as it ends (see the module's docstring)."""

    def __init__(self, uow: UnitOfWork, context: Context):
        self.uow, self.context = uow, context
        self.events: list[tuple[Envelope, bool]] = []  # each with whether its case is derived again

    def keep(self, envelope: Envelope, derives: bool) -> None:
        self.events.append((envelope, derives))

    def __call__(self) -> None:
        # The lock of each case serialises its events: each transaction sees every event committed
        # before it when it derives. A late event of an erased case is kept without its personal
        # data, and an erasure on request holds the lock while it erases.
        erased = self.uow.events.lock_cases(sorted({each.complaint_id for each, _ in self.events} - {None}))
        added = self.uow.events.add_many([(each, each.complaint_id in erased) for each, _ in self.events])
        stale: dict[str, _Changes] = {}
        for envelope, derives in self.events:
            if derives and envelope.id in added:
                stale.setdefault(envelope.complaint_id, _Changes(envelope.mall_id)).note(envelope)
        if stale:
            self._derive(stale)

    def _derive(self, stale: dict[str, _Changes]) -> None:
        """Each case derived again from all its events (read by one statement for all of them)."""
        histories = self.uow.events.of_cases(list(stale))
        derived = [
            (derive(complaint_id, changes.mall_id, histories[complaint_id], self.context.zone), changes)
            for complaint_id, changes in stale.items()
        ]
        # All written first (one statement for their rows): a recurrence is found the same whichever
        # of the batch's cases is checked first (see check_recurrence).
        self.uow.cases.save_many(
            [(facts, changes.escalations, changes.callbacks) for facts, changes in derived]
        )
        for facts, changes in derived:
            # Only intake's record of the complaint can change its problem or receipt (CaseFacts.problem_key).
            if changes.problem and facts.problem_key and facts.received_at:
                check_recurrence(self.uow, facts, self.context)


@dataclass
class _Changes:
    """What one case's events in the transaction can have changed besides its row of facts."""

    mall_id: str
    escalations: bool = False
    callbacks: bool = False
    problem: bool = False

    def note(self, envelope: Envelope) -> None:
        self.escalations |= changes_escalations(envelope.type)
        self.callbacks |= changes_callbacks(envelope.type, envelope.payload)
        self.problem |= envelope.type in PROBLEM_EVENTS


def check_recurrence(uow: UnitOfWork, facts: CaseFacts, context: Context) -> None:
    """Join the problem's open CAPA record, or open one when the problem recurred (in uow's transaction)."""
    key = facts.problem_key
    uow.capa.lock_problem(facts.mall_id, key)
    occurrence = Occurrence(facts.complaint_id, facts.number, facts.received_at)
    current = uow.capa.current(facts.mall_id, key)
    window = context.policy.capa_window
    if current is not None:  # the problem goes on while its record is open: the complaint joins it
        if facts.received_at >= current["first_received_at"] - window:
            uow.capa.add_occurrence(current["id"], occurrence)
        return
    covered_until = uow.capa.last_verified_until(facts.mall_id, key)

    def fresh(start: datetime, end: datetime | None) -> list[Occurrence]:
        """Complaints of the problem no verified record covered."""
        found = uow.cases.occurrences(facts.mall_id, key, start, end)
        return [item for item in found if covered_until is None or item.received_at > covered_until]

    run = recurring_run(
        fresh(facts.received_at - window, facts.received_at + window), context.policy.capa_recurrences, window
    )
    if (
        run
    ):  # the record covers the whole recurrence known, so it holds the same whatever order events came in
        _open_capa(uow, facts, fresh(run[0].received_at - window, None), context)


def _open_capa(uow: UnitOfWork, facts: CaseFacts, run: list[Occurrence], context: Context) -> None:
    place = {
        "category": facts.category,
        "merchant_code": facts.merchant_code,
        "merchant_name": facts.merchant_name,
        "floor": facts.floor,
        "department": facts.department,
    }
    now = context.clock.now()
    record = uow.capa.open(facts.mall_id, facts.problem_key, place, run, now)
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
    uow.publish(event(CAPA_OPENED, mall_id=facts.mall_id, actor=OWN, at=now, payload=payload))
    log.info("CAPA record opened", extra={"capa_id": payload["capa_id"], "problem": facts.problem_key})
