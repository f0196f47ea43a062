"""Intake's events as envelopes: what intake tells the other services."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.common.bus.envelope import ERASURE_ON_REQUEST, Actor, Envelope, event
from services.common.bus.events import (
    COMPLAINT_CORRECTED,
    COMPLAINT_MERGED,
    COMPLAINT_RECEIVED,
    REFERENCE_CHANGED,
    RETENTION_ERASURE_REQUESTED,
)
from services.common.settings import Policy
from services.intake.domain.model import Complaint
from services.intake.domain.privacy import PrivacyRequest


def complaint_payload(complaint: Complaint, policy: Policy) -> dict[str, Any]:
    """The complaint as plain JSON values, with the policy routing needs to run its timers."""
    return {
        "id": complaint.id,
        "number": complaint.number,
        "channel": complaint.channel.value,
        "category": complaint.category.value,
        "severity": complaint.severity.value,
        "major_reasons": list(complaint.major_reasons),
        "status": complaint.status.value,
        "customer": complaint.customer.as_dict(),
        "occurred_at": complaint.occurred_at.isoformat() if complaint.occurred_at else None,
        "received_at": complaint.received_at.isoformat(),
        "floor": complaint.floor,
        "merchant": complaint.merchant.as_dict() if complaint.merchant else None,
        "department": complaint.department,
        "about_department_manager": complaint.about_department_manager,
        "handle_directly": complaint.handle_directly,
        "description": complaint.description,
        "customer_request": complaint.request_codes(),
        "amount": str(complaint.amount) if complaint.amount is not None else None,
        "people_count": complaint.people_count,
        "injury": complaint.injury,
        "media_exposure": complaint.media_exposure,
        "lawsuit": complaint.lawsuit,
        "promised_reply_date": complaint.promised_reply_date.isoformat(),
        "policy": policy.as_workflow_data(),
    }


def complaint_received(
    complaint: Complaint,
    policy: Policy,
    actor: Actor,
    at: datetime,
    email_thread: dict[str, str] | None = None,
) -> Envelope:
    """The recorded complaint; one that came by e-mail names the thread its replies go to."""
    payload = complaint_payload(complaint, policy)
    if email_thread:
        payload["email_thread"] = email_thread
    return event(
        COMPLAINT_RECEIVED,
        mall_id=complaint.mall_id,
        about=complaint.id,
        actor=actor,
        at=at,
        payload=payload,
    )


def complaint_corrected(
    complaint: Complaint, changes: dict, reason: str, policy: Policy, actor: Actor, at: datetime
) -> Envelope:
    return event(
        COMPLAINT_CORRECTED,
        mall_id=complaint.mall_id,
        about=complaint.id,
        actor=actor,
        at=at,
        payload={"complaint": complaint_payload(complaint, policy), "changes": changes, "reason": reason},
    )


def complaint_merged(merged: Complaint, into: Complaint, reason: str, actor: Actor, at: datetime) -> Envelope:
    return event(
        COMPLAINT_MERGED,
        mall_id=merged.mall_id,
        about=merged.id,
        actor=actor,
        at=at,
        payload={"number": merged.number, "into_id": into.id, "into_number": into.number, "reason": reason},
    )


def erasure_requested(request: PrivacyRequest, complaint_ids: list[str]) -> Envelope:
    """Retention's request, asked for by a customer: every service erases these complaints' personal data."""
    return event(
        RETENTION_ERASURE_REQUESTED,
        mall_id=request.mall_id,
        actor=Actor(id=request.requested_by, role=request.requested_role),
        at=request.requested_at,
        payload={"complaint_ids": complaint_ids, "reason": ERASURE_ON_REQUEST, "request_id": request.id},
    )


def reference_changed(mall_id: str, floors: list[dict], departments: list[dict], at: datetime) -> Envelope:
    """The mall's floors and departments, the whole list, after any of them changed: reporting prints
    them by these names (三层, 保安部)."""
    keep = ("code", "name", "name_en")
    return event(
        REFERENCE_CHANGED,
        mall_id=mall_id,
        actor=Actor("intake", "service"),
        at=at,
        payload={
            "floors": [{key: floor.get(key) for key in (*keep, "sort_order")} for floor in floors],
            "departments": [{key: department.get(key) for key in keep} for department in departments],
        },
    )
