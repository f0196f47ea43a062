"""Erasure a customer asked for (PIPL): reporting's side of a request another service made.

Intake publishes the same `retention.erasure_requested` that reporting's retention job does, with the
complaints of the customer who asked and no cut-off day. Reporting erases its own copy as the job
does (the customer columns of its cases, the personal data inside the stored events), every count
staying, and keeps the request beside its own: a rebuild leaves the cases erased, and the services'
`retention.erased` answers are watched the same way (`mall_reporting_retention_unanswered`).
"""

from __future__ import annotations

import logging
from datetime import datetime

import psycopg

from services.common.bus.envelope import ERASURE_ON_REQUEST, Envelope
from services.common.personal import known_ids
from services.reporting.adapters.cases import CaseStore
from services.reporting.adapters.events import EventStore

log = logging.getLogger(__name__)


def erase_on_request(conn: psycopg.Connection, envelope: Envelope, at: datetime) -> None:
    """In the consumer's transaction. Each case's lock is taken first, as the projection takes it,
    so no event of the case is stored with its personal data while this erases it."""
    complaint_ids = sorted(known_ids(envelope.payload["complaint_ids"]))
    events, cases = EventStore(conn), CaseStore(conn)
    events.lock_cases(complaint_ids)
    cases.erase_asked(envelope.mall_id, complaint_ids, at)
    events.erase(complaint_ids)
    cases.keep_request(envelope.id, envelope.mall_id, complaint_ids, envelope.occurred_at, ERASURE_ON_REQUEST)
    log.info("erasure on request: reporting's copy erased", extra={"count": len(complaint_ids)})
