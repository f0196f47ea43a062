"""Routing's side of retention: erase what it holds of the complaints asked for, and say so."""

from __future__ import annotations

import logging

from services.common.bus.envelope import Actor, Envelope, event
from services.common.bus.events import RETENTION_ERASED
from services.routing.service_layer.context import Context
from services.routing.service_layer.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

SERVICE = "routing"


def erase_on_request(envelope: Envelope, uow: UnitOfWork, context: Context) -> None:
    """`retention.erasure_requested`, in the consumer's transaction; erasing twice is harmless."""
    with uow:
        erased = uow.erasure.erase(envelope.payload["complaint_ids"])
        uow.publish(
            event(
                RETENTION_ERASED,
                mall_id=envelope.mall_id,
                actor=Actor(SERVICE, "service"),
                at=context.clock.now(),
                payload={"service": SERVICE, "complaint_ids": erased},
            )
        )
        log.info("retention: personal data erased", extra={"count": len(erased)})
