"""Turning a validated request into a RecordComplaint command (desk and web form alike)."""

from __future__ import annotations

import hashlib
import json

from flask import current_app

from services.common.identity.model import Identity
from services.intake.domain.commands import RecordComplaint
from services.intake.domain.model import Category, Channel, Customer, ReplyChannel, customer_requests
from services.intake.entrypoints.access import PUBLIC_ACTOR


def bus():
    return current_app.extensions["intake.bus"]


def _fingerprint(route: str, data: dict) -> str:
    canonical = json.dumps({"route": route, "body": data}, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def record_command(data: dict, actor: Identity | None, key: str | None, route: str) -> RecordComplaint:
    customer = dict(data["customer"])
    reply = customer.get("preferred_reply_channel")
    customer["preferred_reply_channel"] = ReplyChannel(reply) if reply else None
    return RecordComplaint(
        channel=Channel(data.get("channel", Channel.WEB)),
        category=Category(data["category"]),
        customer=Customer(**customer),
        description=data["description"],
        actor_id=actor.subject if actor else PUBLIC_ACTOR,
        actor_role=sorted(actor.roles)[0] if actor else None,
        occurred_at=data.get("occurred_at"),
        floor=data.get("floor"),
        merchant_code=data.get("merchant_code"),
        department=data.get("department"),
        about_department_manager=data.get("about_department_manager", False),
        handle_directly=data.get("handle_directly", False),
        customer_request=customer_requests(data.get("customer_request")),
        amount=data.get("amount"),
        people_count=data.get("people_count", 1),
        injury=data.get("injury", False),
        media_exposure=data.get("media_exposure", False),
        lawsuit=data.get("lawsuit", False),
        promised_reply_date=data.get("promised_reply_date"),
        consented=data.get("consent", False),
        idempotency_key=key,
        fingerprint=_fingerprint(route, data) if key else None,
    )


def replay_headers(recorded) -> dict:
    return {"Idempotent-Replayed": "true"} if recorded.replayed else {}
