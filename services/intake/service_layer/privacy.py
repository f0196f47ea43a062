"""Customers' personal information requests (PIPL): a copy of what intake holds, or its erasure.

Both find the complaints whose customer has the phone or e-mail asked for, and leave a row in
`intake.privacy_requests` (who, when, why, the customer masked, the complaints). An erasure is
retention's, asked for early: intake erases its own copy in the request's transaction and publishes
`retention.erasure_requested` (reason `request`) for the complaints found, so routing, notify and
reporting each erase theirs in their own transaction and answer `retention.erased`; every count in
the reports stays. Routing's and notify's parts of a copy are asked of them by the console.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from services.common.scrubber import customer_masks, scrub
from services.intake.domain.commands import EraseCustomerData, ExportCustomerData
from services.intake.domain.model import Complaint
from services.intake.domain.privacy import Contact, PrivacyRequest, RequestKind
from services.intake.service_layer.events import erasure_requested
from services.intake.service_layer.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from services.intake.service_layer.handlers import Context

log = logging.getLogger(__name__)

# The most complaints one erasure request may name (the event's limit); more go as several.
REQUEST_BATCH = 1000


@dataclass(frozen=True)
class Exported:
    """What intake hands out of a customer: each complaint with its correction history."""

    request: PrivacyRequest
    complaints: list[Complaint]
    history: dict[str, list[dict[str, Any]]]


def export_customer_data(command: ExportCustomerData, uow: UnitOfWork, context: Context) -> Exported:
    contact = Contact.of(command.contact)
    with uow:
        found = uow.privacy.find(context.mall_id, contact)
        history = {complaint.id: uow.complaints.history(complaint.id) for complaint in found}
        request = _audited(uow, RequestKind.EXPORT, command, contact, found, context)
    return Exported(request, found, history)


def erase_customer_data(command: EraseCustomerData, uow: UnitOfWork, context: Context) -> PrivacyRequest:
    contact = Contact.of(command.contact)
    with uow:
        found = uow.privacy.find(context.mall_id, contact, for_update=True)
        request = _audited(uow, RequestKind.ERASURE, command, contact, found, context)
        ids = list(request.complaint_ids)
        uow.privacy.erase(ids)
        for start in range(0, len(ids), REQUEST_BATCH):
            uow.publish(erasure_requested(request, ids[start : start + REQUEST_BATCH]))
    return request


def _audited(
    uow: UnitOfWork,
    kind: RequestKind,
    command: ExportCustomerData | EraseCustomerData,
    contact: Contact,
    found: list[Complaint],
    context: Context,
) -> PrivacyRequest:
    """The request as the audit keeps it; the reason masked as a manager would read it, so the audit
    holds no more of the customer than the masked contact (the customer's own details in it, too)."""
    known = customer_masks(contact.as_customer(), *(complaint.customer.as_dict() for complaint in found))
    request = PrivacyRequest(
        id=str(uuid.uuid4()),
        mall_id=context.mall_id,
        kind=kind,
        contact_kind=contact.kind,
        contact_masked=contact.masked(),
        reason=scrub(command.reason, known),
        requested_by=command.actor_id,
        requested_role=command.actor_role,
        requested_at=context.clock.now(),
        complaint_ids=tuple(complaint.id for complaint in found),
        numbers=tuple(complaint.number for complaint in found),
    )
    uow.privacy.add(request)
    log.info(
        f"personal information request: {kind.value}",
        extra={
            "request_id": request.id,
            "contact": request.contact_masked,
            "complaints": len(found),
            "numbers": list(request.numbers),
            "by": command.actor_id,
        },
    )
    return request
