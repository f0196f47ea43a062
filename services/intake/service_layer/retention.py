"""Intake's side of retention: erase what it holds of the complaints asked for, and say so."""

from __future__ import annotations

import logging

import psycopg

from services.common.bus.envelope import RETENTION_ERASED, Actor, Envelope
from services.common.bus.outbox import OutboxWriter
from services.common.clock import Clock
from services.common.logging import correlation_id
from services.common.objects import ObjectStore
from services.intake.adapters.erasure import erase_complaints

log = logging.getLogger(__name__)

SERVICE = "intake"


def erase_on_request(
    conn: psycopg.Connection, envelope: Envelope, outbox: OutboxWriter, clock: Clock, objects: ObjectStore
) -> None:
    """`retention.erasure_requested`, in the consumer's transaction; erasing twice is harmless."""
    erased = erase_complaints(conn, envelope.payload["complaint_ids"], objects)
    answer = Envelope(type=RETENTION_ERASED, mall_id=envelope.mall_id, actor=Actor(SERVICE, "service"),
                      occurred_at=clock.now(), correlation_id=correlation_id.get(),
                      payload={"service": SERVICE, "complaint_ids": erased})  # fmt: skip
    outbox.add(conn, answer)
    log.info("retention: personal data erased", extra={"count": len(erased)})
