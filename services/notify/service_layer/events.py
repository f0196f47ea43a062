"""Notify's events: a message delivered, a message that could not be (so the desk can act), erased."""

from __future__ import annotations

from datetime import datetime

from services.common.bus.envelope import Actor, Envelope, event
from services.common.bus.events import NOTIFICATION_FAILED, NOTIFICATION_SENT, RETENTION_ERASED
from services.notify.adapters.deliveries import Delivery
from services.notify.domain.model import Request
from services.notify.domain.privacy import scrub

NOTIFY = Actor("notify", "service")


def sent(request: Request, delivery: Delivery, at: datetime) -> Envelope:
    payload = {
        "request_id": request.id,
        "delivery_id": delivery.id,
        "kind": request.kind,
        "to": request.to,
        "number": request.number,
        "audience": delivery.audience,
        "channel": delivery.channel,
        "attempts": delivery.attempts,
    }
    return _envelope(NOTIFICATION_SENT, request, payload, at)


def failed(
    request: Request,
    reason: str,
    error: str | None,
    at: datetime,
    delivery: Delivery | None = None,
    audience: str | None = None,
) -> Envelope:
    """`error` loses any address or phone number it quotes: events carry no personal data."""
    payload = {
        "request_id": request.id,
        "delivery_id": delivery.id if delivery else None,
        "kind": request.kind,
        "to": request.to,
        "number": request.number,
        "audience": delivery.audience if delivery else audience,
        "channel": delivery.channel if delivery else None,
        "attempts": delivery.attempts if delivery else 0,
        "reason": reason,
        "error": scrub(error, delivery.address if delivery else None),
    }
    return _envelope(NOTIFICATION_FAILED, request, payload, at)


def erased(mall_id: str, complaint_ids: list[str], at: datetime) -> Envelope:
    payload = {"service": "notify", "complaint_ids": complaint_ids}
    return event(RETENTION_ERASED, mall_id=mall_id, actor=NOTIFY, at=at, payload=payload)


def _envelope(event_type: str, request: Request, payload: dict, at: datetime) -> Envelope:
    return event(
        event_type, mall_id=request.mall_id, about=request.complaint_id, actor=NOTIFY, at=at, payload=payload
    )
