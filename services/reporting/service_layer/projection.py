"""Each consumed event, in the consumer's transaction: keep it, derive its case again, look for recurrence.

The event is stored first and the case's facts are derived from every stored event of the case, so
the result is the same whatever order the events came in, and a redelivered event changes nothing.
A case is derived as the transaction ends, once however many of its events a consumer's batch holds.
Only what an event can change is done again: an event no fact reads is kept and nothing more; a
case's escalations and callbacks are written again only after an event that can change them.

The stored events are the consumer's inbox: an event kept already is a redelivery (each handler
returns False then), so reporting's consumer writes no inbox row of its own.
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


def keep_event(envelope: Envelope, uow: UnitOfWork, context: Context) -> bool:
    """An event no fact reads (or of no case): kept, and its case not derived again; False when kept already."""
    with uow:
        if envelope.complaint_id is None:
            return uow.events.add(envelope)
        return uow.events.add(envelope, erase=uow.events.lock_case(envelope.complaint_id))


def project_event(envelope: Envelope, uow: UnitOfWork, context: Context) -> bool:
    """Keep the event; its case is derived again from all its events as the transaction ends (once
    for all the case's events of a consumer's batch). False when the event was kept already."""
    if envelope.complaint_id is None or not reads(envelope.type, envelope.payload):
        return keep_event(envelope, uow, context)
    with uow:
        # The lock is taken even for an event no fact reads (keep_event): a late event of an erased
        # case is kept without its personal data, and an erasure on request holds it while it erases.
        # It is held until the commit, so the case is derived from every event committed before.
        erased = uow.events.lock_case(envelope.complaint_id)
        if not uow.events.add(envelope, erase=erased):  # kept already: nothing to derive
            return False
        uow.at_end(StaleCases, StaleCases(uow, context)).note(envelope)
        return True


class StaleCases:
    """The cases a transaction's events may have changed, and what of each: derived again when the
    transaction ends, each once, from all its events (read by one statement for all of them)."""

    def __init__(self, uow: UnitOfWork, context: Context):
        self.uow, self.context = uow, context
        self.cases: dict[str, _Changes] = {}

    def note(self, envelope: Envelope) -> None:
        changes = self.cases.setdefault(envelope.complaint_id, _Changes(envelope.mall_id))
        changes.escalations |= changes_escalations(envelope.type)
        changes.callbacks |= changes_callbacks(envelope.type, envelope.payload)
        changes.problem |= envelope.type in PROBLEM_EVENTS

    def __call__(self) -> None:
        histories = self.uow.events.of_cases(list(self.cases))
        for complaint_id, changes in self.cases.items():
            facts = derive(complaint_id, changes.mall_id, histories[complaint_id], self.context.zone)
            self.uow.cases.save(facts, escalations=changes.escalations, callbacks=changes.callbacks)
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
