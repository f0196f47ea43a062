"""How a complaint is shown to a caller: personal data masked outside the case's handlers."""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from dataclasses import asdict
from datetime import datetime

from services.common.errors import InvalidInput
from services.common.identity.model import Identity, Role
from services.intake.domain.model import Complaint

# Roles that talk to the customer and so see contact details in full. Routing will add the
# case's own handlers once it knows who holds each case.
UNMASKED_ROLES = (Role.SERVICE_DESK, Role.SERVICE)


def mask_name(name: str | None) -> str | None:
    if not name:
        return name
    return name[0] + "*" * max(len(name) - 1, 1)


def mask_phone(phone: str | None) -> str | None:
    if not phone:
        return phone
    digits = phone.replace(" ", "").replace("-", "")
    if len(digits) < 7:
        return "*" * len(digits)
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]


def mask_email(email: str | None) -> str | None:
    if not email or "@" not in email:
        return email
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"


def present(complaint: Complaint, viewer: Identity) -> dict:
    data = asdict(complaint)
    customer = data["customer"]
    masked = not viewer.has_any(*UNMASKED_ROLES)
    if masked:
        customer.update(
            name=mask_name(customer["name"]),
            phone=mask_phone(customer["phone"]),
            email=mask_email(customer["email"]),
            address="***" if customer["address"] else None,
        )
    customer["masked"] = masked
    return data


def encode_cursor(complaint: Complaint) -> str:
    raw = json.dumps([complaint.received_at.isoformat(), complaint.id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        moment, complaint_id = json.loads(raw)
        # The id goes to a uuid column: anything else would fail in the database, not here.
        return datetime.fromisoformat(moment), str(uuid.UUID(str(complaint_id)))
    except (ValueError, TypeError, binascii.Error, json.JSONDecodeError) as exc:
        raise InvalidInput("bad cursor", {"cursor": ["not a cursor this API returned"]}, "query") from exc
