"""Notify's handlers: the events its consumer receives (each run in the consumer's transaction with
its inbox row) and the commands its routes send, each handled by the one function the tables at the
bottom name (services/common/messagebus.py)."""

from __future__ import annotations

import logging
import uuid
from datetime import date, datetime
from typing import Any

from services.common.bus.envelope import Envelope
from services.common.bus.events import (
    CAPA_OPENED,
    COMPLAINT_CORRECTED,
    COMPLAINT_RECEIVED,
    NOTIFICATION_REQUESTED,
    RETENTION_ERASURE_REQUESTED,
)
from services.common.errors import Conflict, NotFound
from services.notify.domain.commands import MarkRead, RetryDelivery
from services.notify.domain.model import Audience, ComplaintFacts, Contact, Request
from services.notify.service_layer import events
from services.notify.service_layer.context import Context
from services.notify.service_layer.planning import plan_known
from services.notify.service_layer.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)


def complaint_known(envelope: Envelope, uow: UnitOfWork, context: Context) -> None:
    """Keep the complaint's contact facts; deliver what was waiting for them."""
    payload = envelope.payload.get("complaint", envelope.payload)  # corrected events nest it
    facts = facts_of(payload, envelope.mall_id)
    with uow:
        uow.complaints.save(facts, envelope.occurred_at)
        uow.requests.lock_for(facts.id)  # after the save: a request held behind it then reads it
        for request in uow.requests.waiting_for(facts.id):
            plan_known(uow, context, request, facts)
        if envelope.type == COMPLAINT_CORRECTED and _contact_changed(envelope.payload.get("changes", {})):
            replan_undelivered(uow, context, facts)


def notification_requested(envelope: Envelope, uow: UnitOfWork, context: Context) -> None:
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
        department=payload.get("department"),
    )
    with uow:
        plan_or_hold(uow, context, request)


def capa_opened(envelope: Envelope, uow: UnitOfWork, context: Context) -> None:
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
    with uow:
        plan_or_hold(uow, context, request)


def plan_or_hold(uow: UnitOfWork, context: Context, request: Request) -> None:
    """Keep the request planned with its deliveries when its complaint is known (the request's row
    written once, as planned), else waiting for the complaint."""
    added, complaint = uow.requests.keep(request, context.clock.now())
    if not added:  # the same event again
        return
    if complaint is not None:
        plan_known(uow, context, request, complaint, marked=True)
        return
    # The complaint may be arriving at another worker right now, its transaction not yet seen by
    # this one's statement: wait for it behind the complaint's lock and look again.
    uow.requests.lock_for(request.complaint_id)
    complaint = uow.complaints.get(request.complaint_id)
    if complaint is None:
        log.info(
            "request held until its complaint is known",
            extra={"kind": request.kind, "number": request.number},
        )
        return
    plan_known(uow, context, request, complaint)


def erasure_requested(envelope: Envelope, uow: UnitOfWork, context: Context) -> None:
    """Erase the personal data of these complaints and say which ones this service held."""
    ids = [complaint_id for complaint_id in envelope.payload["complaint_ids"] if _is_uuid(complaint_id)]
    with uow:
        known = uow.erasure.known_values(ids)
        held = set(uow.erasure.erase_deliveries(ids, known))
        uow.erasure.erase_inbox(ids, known)
        held |= set(uow.requests.erase(ids, known))
        held |= set(uow.complaints.erase(ids, context.clock.now()))
        uow.publish(events.erased(envelope.mall_id, sorted(held), context.clock.now()))
    log.info("personal data erased", extra={"complaints": len(held)})


def replan_undelivered(uow: UnitOfWork, context: Context, facts: ComplaintFacts) -> None:
    """After the desk corrects a customer's contact details, what never reached them goes again."""
    for row in uow.requests.of_complaint(facts.id):
        if row["recipient"] != Audience.CUSTOMER or row["state"] != "planned":
            continue
        states = uow.deliveries.states_of_request(str(row["id"]))
        if states and all(state == "failed" for state in states):
            plan_known(uow, context, uow.requests.get(str(row["id"])), facts)


def mark_read(command: MarkRead, uow: UnitOfWork, context: Context) -> dict[str, Any]:
    """One of my notifications, marked read; NotFound when it is not in my inbox."""
    with uow:
        item = uow.inbox.mark_read(command.mall_id, command.username, command.item_id, context.clock.now())
    if item is None:
        raise NotFound(f"no notification {command.item_id} in your inbox")
    return item


def retry_delivery(command: RetryDelivery, uow: UnitOfWork, context: Context) -> dict[str, Any]:
    """A failed delivery due again now, as the delivery log shows it; the workers are woken by the
    commit. NotFound for another mall's or no delivery, Conflict for one that has not failed or has
    no address to try."""
    with uow:
        row = uow.deliveries.retry(command.mall_id, command.delivery_id, context.clock.now())
        if row is None:
            found = uow.deliveries.get(command.delivery_id)
            if found is None or found.mall_id != command.mall_id:
                raise NotFound(f"no delivery {command.delivery_id}")
            raise Conflict(
                f"only a failed delivery with an address can be retried; this one is {found.state}"
            )
    return row


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


COMMAND_HANDLERS = {
    MarkRead: mark_read,
    RetryDelivery: retry_delivery,
}
EVENT_HANDLERS = {
    COMPLAINT_RECEIVED: complaint_known,
    COMPLAINT_CORRECTED: complaint_known,
    NOTIFICATION_REQUESTED: notification_requested,
    CAPA_OPENED: capa_opened,
    RETENTION_ERASURE_REQUESTED: erasure_requested,
}
