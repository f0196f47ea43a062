"""Retention's events as they reach reporting: erasure a customer asked for, and the services' answers.

Erasure a customer asked for (PIPL) is reporting's side of a request another service made. Intake
publishes the same `retention.erasure_requested` that reporting's retention job does, with the
complaints of the customer who asked and no cut-off day. Reporting erases its own copy as the job
does (the customer columns of its cases, the personal data inside the stored events), every count
staying, and keeps the request beside its own: a rebuild leaves the cases erased, and the services'
`retention.erased` answers are watched the same way (`mall_reporting_retention_unanswered`).
"""

from __future__ import annotations

import logging

from services.common.bus.envelope import ERASURE_ON_REQUEST, Envelope
from services.common.personal import known_ids
from services.reporting.service_layer.context import OWN, Context
from services.reporting.service_layer.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)


def erase_on_request(envelope: Envelope, uow: UnitOfWork, context: Context) -> bool:
    """Keep the request and, unless it is reporting's own retention request coming back, erase the
    complaints it names. Each case's lock is taken first, as the projection takes it, so no event of
    the case is stored with its personal data while this erases it."""
    with uow:
        uow.finish()  # the batch's earlier events first: what they say of the customer is erased too
        if not uow.events.add(envelope):
            return False
        if envelope.actor == OWN:  # the job erased its copy when it asked
            return True
        complaint_ids = sorted(known_ids(envelope.payload["complaint_ids"]))
        uow.events.lock_cases(complaint_ids)
        uow.cases.erase_asked(envelope.mall_id, complaint_ids, context.clock.now())
        uow.events.erase(complaint_ids)
        uow.retention.keep_request(
            envelope.id, envelope.mall_id, complaint_ids, envelope.occurred_at, ERASURE_ON_REQUEST
        )
        log.info("erasure on request: reporting's copy erased", extra={"count": len(complaint_ids)})
        return True


def record_erased(envelope: Envelope, uow: UnitOfWork, context: Context) -> bool:
    """A service's answer to a retention request: remember who erased what."""
    with uow:
        if not uow.events.add(envelope):
            return False
        uow.retention.record_answers(
            envelope.payload["service"], envelope.payload["complaint_ids"], context.clock.now()
        )
        return True
