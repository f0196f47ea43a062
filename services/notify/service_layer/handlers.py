"""Notify's event handlers, each run in the consumer's transaction with its inbox row.

The table at the bottom maps each event type to its handler.
"""

from __future__ import annotations

import logging
import uuid
from datetime import date, datetime

from services.common.bus.envelope import Envelope
from services.common.bus.events import (
    CAPA_OPENED,
    COMPLAINT_CORRECTED,
    COMPLAINT_RECEIVED,
    NOTIFICATION_REQUESTED,
    RETENTION_ERASURE_REQUESTED,
)
from services.notify.adapters import erasure
from services.notify.domain.model import Audience, ComplaintFacts, Contact, Request
from services.notify.service_layer import events
from services.notify.service_layer.context import Context
from services.notify.service_layer.planning import plan_known
from services.notify.service_layer.session import Session

log = logging.getLogger(__name__)


def complaint_known(session: Session, context: Context, envelope: Envelope) -> None:
    """Keep the complaint's contact facts; deliver what was waiting for them."""
    payload = envelope.payload.get("complaint", envelope.payload)  # corrected events nest it
    facts = facts_of(payload, envelope.mall_id)
    session.complaints.save(facts, envelope.occurred_at)
    for request in session.requests.waiting_for(facts.id):
        plan_known(session, context, request, facts)
    if envelope.type == COMPLAINT_CORRECTED and _contact_changed(envelope.payload.get("changes", {})):
        replan_undelivered(session, context, facts)


def notification_requested(session: Session, context: Context, envelope: Envelope) -> None:
    """Plan the deliveries of a request, or hold it until its complaint is known."""
    payload = envelope.payload
    request = Request(
        id=envelope.id,
        mall_id=envelope.mall_id,
        complaint_id=envelope.complaint_id,
        kind=payload["kind"],
        to=payload["to"],
        number=payload["number"],
        element_id=payload.get("element_id"),
        data=payload.get("data") or {},
    )
    plan_or_hold(session, context, request)


def capa_opened(session: Session, context: Context, envelope: Envelope) -> None:
    """A recurring problem opened a CAPA record: its owner (the operations manager) is told, as a
    message about the complaint that made the problem recur (the last of those the record names)."""
    payload = envelope.payload
    request = Request(
        id=envelope.id,
        mall_id=envelope.mall_id,
        complaint_id=payload["complaint_ids"][-1],
        kind="capa_opened",
        to=payload["queue"],
        number=payload["numbers"][-1],
        element_id=None,
        data={key: value for key, value in payload.items() if key != "complaint_ids"},
    )
    plan_or_hold(session, context, request)


def plan_or_hold(session: Session, context: Context, request: Request) -> None:
    if not session.requests.add(request, "waiting", context.clock.now()):
        return
    complaint = session.complaints.get(request.complaint_id)
    if complaint is None:
        log.info(
            "request held until its complaint is known",
            extra={"kind": request.kind, "number": request.number},
        )
        return
    plan_known(session, context, request, complaint)


def erasure_requested(session: Session, context: Context, envelope: Envelope) -> None:
    """Erase the personal data of these complaints and say which ones this service held."""
    ids = [complaint_id for complaint_id in envelope.payload["complaint_ids"] if _is_uuid(complaint_id)]
    known = erasure.known_values(session.conn, ids)
    held = set(erasure.erase_deliveries(session.conn, ids, known))
    erasure.erase_inbox(session.conn, ids, known)
    held |= set(session.requests.erase(ids, known))
    held |= set(session.complaints.erase(ids, context.clock.now()))
    session.publish(events.erased(envelope.mall_id, sorted(held), context.clock.now()))
    log.info("personal data erased", extra={"complaints": len(held)})


def replan_undelivered(session: Session, context: Context, facts: ComplaintFacts) -> None:
    """After the desk corrects a customer's contact details, what never reached them goes again."""
    for row in session.requests.of_complaint(facts.id):
        if row["recipient"] != Audience.CUSTOMER or row["state"] != "planned":
            continue
        states = session.deliveries.states_of_request(str(row["id"]))
        if states and all(state == "failed" for state in states):
            plan_known(session, context, session.requests.get(str(row["id"])), facts)


def facts_of(payload: dict, mall_id: str) -> ComplaintFacts:
    promised = payload.get("promised_reply_date")
    received = payload.get("received_at")
    return ComplaintFacts(
        id=payload["id"],
        mall_id=mall_id,
        number=payload["number"],
        channel=payload["channel"],
        customer=Contact.of(payload.get("customer") or {}),
        merchant=payload.get("merchant"),
        floor=payload.get("floor"),
        department=payload.get("department"),
        category=payload.get("category"),
        promised_reply_date=date.fromisoformat(promised) if promised else None,
        received_at=datetime.fromisoformat(received) if received else None,
        email_thread=payload.get("email_thread") or None,
    )


def _contact_changed(changes: dict) -> bool:
    return any(name.startswith("customer.") for name in changes)


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


HANDLERS = {
    COMPLAINT_RECEIVED: complaint_known,
    COMPLAINT_CORRECTED: complaint_known,
    NOTIFICATION_REQUESTED: notification_requested,
    CAPA_OPENED: capa_opened,
    RETENTION_ERASURE_REQUESTED: erasure_requested,
}
