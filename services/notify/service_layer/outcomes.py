"""Recording what a send came to: sent, tried again later, or failed (and the desk told)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from services.notify.adapters.deliveries import Delivery
from services.notify.domain.model import Audience, Request, quiet_hours_hold
from services.notify.service_layer import events
from services.notify.service_layer.context import Context
from services.notify.service_layer.planning import report_failure
from services.notify.service_layer.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

SENT, TRANSIENT, PERMANENT = "sent", "transient", "permanent"
INTERRUPTED = (
    "the worker stopped after taking this delivery and before recording the provider's answer;"
    " sent again with the same Message-ID / delivery id"
)


@dataclass(frozen=True)
class Outcome:
    kind: str  # sent, transient or permanent
    answer: str


def record(uow: UnitOfWork, context: Context, delivery: Delivery, outcome: Outcome) -> None:
    """Write the attempt and the delivery's new state, in the unit of work's transaction."""
    now = context.clock.now()
    request = _request_of(uow, delivery)
    if outcome.kind == SENT:  # the attempt, the state and the event by one statement
        new = uow.record_sent(delivery, now, outcome.answer, events.sent(request, delivery, now))
    else:
        new = uow.deliveries.attempt(delivery.id, now, outcome.kind, outcome.answer, delivery.attempts)
    if not new:
        # Written before: that commit reached the server but its answer was lost (see
        # DeliveryWorker.record_once_sent), and the state moved with it in the same transaction.
        log.info("delivery outcome already recorded", extra={"delivery_id": delivery.id})
        return
    if outcome.kind == SENT:
        return
    gives_up = outcome.kind == PERMANENT or context.retry.gives_up_after(delivery.attempts)
    if gives_up:
        if uow.deliveries.failed(delivery, outcome.answer):
            reason = "permanent_error" if outcome.kind == PERMANENT else "gave_up"
            report_failure(uow, context, request, delivery, reason, outcome.answer)
            log.warning("delivery failed", extra={"delivery_id": delivery.id, "reason": reason})
        return
    at = now + context.retry.delay(delivery.attempts, delivery.id)
    if quiet_hours_hold(delivery.audience, delivery.channel):
        at = context.quiet_hours.release(at, context.zone)
    uow.deliveries.again_at(delivery, at, outcome.answer)


def _request_of(uow: UnitOfWork, delivery: Delivery) -> Request:
    """The delivery's request, from what the claim read with it (one query less per message)."""
    if delivery.request_to is None or delivery.number is None:
        return uow.requests.get(delivery.request_id)
    return Request(
        id=delivery.request_id,
        mall_id=delivery.mall_id,
        complaint_id=delivery.complaint_id,
        kind=delivery.kind,
        to=delivery.request_to,
        number=delivery.number,
    )


def expire_waiting(uow: UnitOfWork, context: Context) -> int:
    """Requests whose complaint never arrived within NOTIFY_HOLD_HOURS: failed, and the desk told."""
    now = context.clock.now()
    expired = uow.requests.take_overdue_waiting(now - context.hold_for)
    for request in expired:
        uow.requests.mark(request.id, "expired", now)
        audience = request.to if request.to in (Audience.CUSTOMER, Audience.MERCHANT) else Audience.STAFF
        hours = f"{context.hold_for.total_seconds() / 3600:g}"
        error = f"the complaint was not known to notify within {hours} hours"
        report_failure(uow, context, request, None, "complaint_unknown", error, audience=audience)
    return len(expired)
