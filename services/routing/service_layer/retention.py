"""Routing's side of retention: erase what it holds of the complaints asked for, and say so."""

from __future__ import annotations

import logging

from services.common.bus.envelope import Actor, Envelope, event
from services.common.bus.events import RETENTION_ERASED
from services.routing.adapters.erasure import erase_cases
from services.routing.service_layer.context import Context
from services.routing.service_layer.session import Session

log = logging.getLogger(__name__)

SERVICE = "routing"


def erase_on_request(session: Session, context: Context, envelope: Envelope) -> None:
    """`retention.erasure_requested`, in the consumer's transaction; erasing twice is harmless."""
    erased = erase_cases(session.conn, envelope.payload["complaint_ids"])
    session.publish(
        event(
            RETENTION_ERASED,
            mall_id=envelope.mall_id,
            actor=Actor(SERVICE, "service"),
            at=context.clock.now(),
            payload={"service": SERVICE, "complaint_ids": erased},
        )
    )
    log.info("retention: personal data erased", extra={"count": len(erased)})
