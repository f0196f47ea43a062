"""Intake's handlers: the commands its routes send and the events its consumer receives, each
handled by the one function the tables at the bottom name (services/common/messagebus.py)."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from services.common.bus.envelope import Actor
from services.common.bus.events import NOTIFICATION_REQUESTED, RETENTION_ERASURE_REQUESTED
from services.common.clock import Clock
from services.common.errors import Conflict, InvalidInput, NotFound
from services.common.settings import Policy
from services.intake.domain import contact_rules, rules
from services.intake.domain.commands import (
    AttachFiles,
    CheckComplaint,
    CheckFiles,
    CorrectComplaint,
    EraseCustomerData,
    ExportCustomerData,
    LinkComplaints,
    MergeComplaints,
    RecordComplaint,
)
from services.intake.domain.field_errors import FieldErrors
from services.intake.domain.model import Complaint, Merchant
from services.intake.service_layer.attachments import attach_files, check_files
from services.intake.service_layer.case_events import (
    PROGRESS_EVENTS,
    TASK_EVENTS,
    note_department_told,
    note_stage,
    note_task_holder,
)
from services.intake.service_layer.corrections import apply_corrections
from services.intake.service_layer.events import complaint_corrected, complaint_received
from services.intake.service_layer.privacy import erase_customer_data, export_customer_data
from services.intake.service_layer.related import link_complaints, merge_complaints
from services.intake.service_layer.retention import erase_on_request
from services.intake.service_layer.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Context:
    """What every handler needs besides its unit of work: which mall, its policy, the clock."""

    mall_id: str
    policy: Policy
    zone: ZoneInfo
    clock: Clock
    max_attachment_bytes: int = 10 * 1024 * 1024


@dataclass(frozen=True)
class Recorded:
    """A recorded complaint, and whether it was recorded by an earlier request with the same key."""

    complaint: Complaint
    replayed: bool = False


def record_complaint(command: RecordComplaint, uow: UnitOfWork, context: Context) -> Recorded:
    now = context.clock.now()
    with uow.each_statement_commits():  # reads, the number and the complaint need no transaction
        check, merchant = uow.reference.check(
            context.mall_id, command.floor, command.merchant_code, command.department
        )
        complaint = _new_complaint(command, now, merchant, context)
        _raise_on_errors(rules.check_new(complaint, check, now, context.zone))
        earlier = uow.idempotency.find(context.mall_id, command.idempotency_key)  # before a number
        if earlier is None:
            day = now.astimezone(context.zone).date()
            number = rules.format_number(day, uow.take_number(context.mall_id, day))
            complaint = replace(complaint, number=number)
            event = complaint_received(complaint, context.policy, _actor(command), now, command.email_thread)
            earlier = uow.record_first(complaint, event, command.idempotency_key, command.fingerprint)
        if earlier is not None:
            return _replay(uow, context.mall_id, earlier, command.fingerprint)
    log.info(
        "complaint recorded",
        extra={
            "complaint_id": complaint.id,
            "number": complaint.number,
            "severity": complaint.severity.value,
        },
    )
    return Recorded(complaint)


def check_complaint(command: CheckComplaint, uow: UnitOfWork, context: Context) -> FieldErrors:
    """The rules' errors over a draft the schema refused (nothing is written)."""
    now = context.clock.now()
    draft = command.draft
    with uow.each_statement_commits():
        check, merchant = uow.reference.check(
            context.mall_id, draft.floor, draft.merchant_code, draft.department
        )
    complaint = _new_complaint(draft, now, merchant, context)
    return rules.check_new(complaint, check, now, context.zone, command.unread)


def correct_complaint(command: CorrectComplaint, uow: UnitOfWork, context: Context) -> Complaint:
    now = context.clock.now()
    with uow:
        current = uow.complaints.get(context.mall_id, command.complaint_id, for_update=True)
        if current is None:
            raise NotFound(f"no complaint {command.complaint_id}")
        merchant_code = command.changes.get(
            "merchant_code", current.merchant.code if current.merchant else None
        )
        floor = command.changes.get("floor", current.floor)
        department = command.changes.get("department", current.department)
        check, merchant = uow.reference.check(context.mall_id, floor, merchant_code, department)
        corrected, changes = apply_corrections(current, command, merchant, context.policy)
        if not changes:
            return current
        _raise_on_errors(
            {
                **rules.check_all(corrected, check, now, context.zone),
                **rules.check_reply_date_correction(current, corrected, now, context.zone),
            }
        )
        corrected = replace(corrected, version=current.version + 1)
        uow.complaints.update(corrected)
        uow.complaints.add_history(
            current.id, now, command.actor_id, command.actor_role, command.reason, changes
        )
        uow.publish(
            complaint_corrected(corrected, changes, command.reason, context.policy, _actor(command), now)
        )
    log.info("complaint corrected", extra={"complaint_id": corrected.id, "fields": sorted(changes)})
    return corrected


def _new_complaint(
    command: RecordComplaint, now: datetime, merchant: Merchant | None, context: Context
) -> Complaint:
    customer = command.customer
    if customer.preferred_reply_channel is None and not customer.anonymous:
        reply = contact_rules.default_reply_channel(command.channel, customer.phone, customer.email)
        customer = replace(customer, preferred_reply_channel=reply)
    complaint = Complaint(
        id=str(uuid.uuid4()),
        mall_id=context.mall_id,
        number="",
        channel=command.channel,
        category=command.category,
        customer=customer,
        description=command.description,
        received_at=now,
        received_by=command.actor_id,
        promised_reply_date=command.promised_reply_date
        or rules.default_promised_reply_date(now, context.policy, context.zone),
        occurred_at=command.occurred_at,
        floor=command.floor or (merchant.floor if merchant else None),
        merchant=merchant
        if merchant
        else (_unknown_merchant(command.merchant_code) if command.merchant_code else None),
        department=command.department,
        about_department_manager=command.about_department_manager,
        handle_directly=command.handle_directly,
        customer_request=command.customer_request,
        amount=command.amount,
        people_count=command.people_count,
        injury=command.injury,
        media_exposure=command.media_exposure,
        lawsuit=command.lawsuit,
        consented_at=now if command.consented else None,
    )
    return rules.with_severity(complaint, context.policy)


def _unknown_merchant(code: str) -> Merchant:
    """Placeholder so the rules can name an unknown merchant code in their error."""
    return Merchant(code=code, shop_name="", floor="")


def _replay(uow: UnitOfWork, mall_id: str, earlier: dict[str, Any], fingerprint: str | None) -> Recorded:
    if earlier["fingerprint"] != (fingerprint or ""):
        raise Conflict("this Idempotency-Key was already used with a different request body")
    complaint = uow.complaints.get(mall_id, str(earlier["complaint_id"]))
    return Recorded(complaint, replayed=True)


def _raise_on_errors(errors: FieldErrors) -> None:
    if errors:
        raise InvalidInput("the complaint is incomplete or inconsistent: " + ", ".join(errors), errors)


def _actor(command: RecordComplaint | CorrectComplaint) -> Actor:
    return Actor(id=command.actor_id, role=command.actor_role)


COMMAND_HANDLERS = {
    RecordComplaint: record_complaint,
    CheckComplaint: check_complaint,
    CorrectComplaint: correct_complaint,
    LinkComplaints: link_complaints,
    MergeComplaints: merge_complaints,
    ExportCustomerData: export_customer_data,
    EraseCustomerData: erase_customer_data,
    AttachFiles: attach_files,
    CheckFiles: check_files,
}
EVENT_HANDLERS = {
    **dict.fromkeys(TASK_EVENTS, note_task_holder),
    **dict.fromkeys(PROGRESS_EVENTS, note_stage),
    NOTIFICATION_REQUESTED: note_department_told,
    RETENTION_ERASURE_REQUESTED: erase_on_request,
}
