"""Mapping between complaint rows and the domain's Complaint."""

from __future__ import annotations

import json
from typing import Any

from services.intake.domain.model import (
    Category,
    Channel,
    Complaint,
    Customer,
    Merchant,
    ReplyChannel,
    Severity,
    Status,
    customer_requests,
)

COLUMNS = (
    "id",
    "mall_id",
    "number",
    "channel",
    "category",
    "severity",
    "major_reasons",
    "status",
    "customer",
    "occurred_at",
    "floor",
    "merchant_code",
    "merchant",
    "department",
    "about_department_manager",
    "handle_directly",
    "description",
    "customer_request",
    "amount",
    "people_count",
    "injury",
    "media_exposure",
    "lawsuit",
    "promised_reply_date",
    "received_at",
    "received_by",
    "consented_at",
    "version",
)


def to_row(complaint: Complaint) -> dict[str, Any]:
    return {
        "id": complaint.id,
        "mall_id": complaint.mall_id,
        "number": complaint.number,
        "channel": complaint.channel.value,
        "category": complaint.category.value,
        "severity": complaint.severity.value,
        "major_reasons": list(complaint.major_reasons),
        "status": complaint.status.value,
        "customer": json.dumps(complaint.customer.as_dict(), ensure_ascii=False),
        "occurred_at": complaint.occurred_at,
        "floor": complaint.floor,
        "merchant_code": complaint.merchant.code if complaint.merchant else None,
        "merchant": json.dumps(complaint.merchant.as_dict(), ensure_ascii=False)
        if complaint.merchant
        else None,
        "department": complaint.department,
        "about_department_manager": complaint.about_department_manager,
        "handle_directly": complaint.handle_directly,
        "description": complaint.description,
        "customer_request": complaint.request_codes(),
        "amount": complaint.amount,
        "people_count": complaint.people_count,
        "injury": complaint.injury,
        "media_exposure": complaint.media_exposure,
        "lawsuit": complaint.lawsuit,
        "promised_reply_date": complaint.promised_reply_date,
        "received_at": complaint.received_at,
        "received_by": complaint.received_by,
        "consented_at": complaint.consented_at,
        "version": complaint.version,
    }


def from_row(row: dict[str, Any]) -> Complaint:
    customer = dict(row["customer"])
    reply = customer.get("preferred_reply_channel")
    customer["preferred_reply_channel"] = ReplyChannel(reply) if reply else None
    return Complaint(
        id=str(row["id"]),
        mall_id=row["mall_id"],
        number=row["number"],
        channel=Channel(row["channel"]),
        category=Category(row["category"]),
        severity=Severity(row["severity"]),
        major_reasons=tuple(row["major_reasons"]),
        status=Status(row["status"]),
        customer=Customer(**customer),
        occurred_at=row["occurred_at"],
        floor=row["floor"],
        merchant=Merchant(**row["merchant"]) if row["merchant"] else None,
        department=row["department"],
        about_department_manager=row["about_department_manager"],
        handle_directly=row["handle_directly"],
        description=row["description"],
        customer_request=customer_requests(row["customer_request"]),
        amount=row["amount"],
        people_count=row["people_count"],
        injury=row["injury"],
        media_exposure=row["media_exposure"],
        lawsuit=row["lawsuit"],
        promised_reply_date=row["promised_reply_date"],
        received_at=row["received_at"],
        received_by=row["received_by"],
        consented_at=row["consented_at"],
        version=row["version"],
    )
