"""Intake's side of retention: erase what it holds of the complaints asked for, and say so."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from services.common.bus.envelope import Actor, Envelope, event
from services.common.bus.events import RETENTION_ERASED

if TYPE_CHECKING:
    from services.intake.service_layer.handlers import Context
    from services.intake.service_layer.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

SERVICE = "intake"


def erase_on_request(event: Envelope, uow: UnitOfWork, context: Context) -> None:
    """`retention.erasure_requested`: erase intake's copy and answer `retention.erased`, in one
    transaction; erasing twice is harmless."""
    with uow:
        erased = uow.privacy.erase(event.payload["complaint_ids"])
        uow.publish(_erased(event.mall_id, erased, context))
    log.info("retention: personal data erased", extra={"count": len(erased)})


def _erased(mall_id: str, complaint_ids: list[str], context: Context) -> Envelope:
    return event(
        RETENTION_ERASED,
        mall_id=mall_id,
        actor=Actor(SERVICE, "service"),
        at=context.clock.now(),
        payload={"service": SERVICE, "complaint_ids": complaint_ids},
    )
