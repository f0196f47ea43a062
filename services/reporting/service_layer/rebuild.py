"""Rebuilding the read model from scratch: every case derived again from the events reporting kept.

One transaction: readers see the old figures until the new ones are complete, and a case an event
reaches meanwhile is derived again by its consumer once the rebuild has committed. CAPA records are
the operations manager's and stay; a recurrence the rebuild finds without one opens one.
"""

from __future__ import annotations

import logging

from services.reporting.adapters.cases import CaseStore
from services.reporting.adapters.events import EventStore
from services.reporting.domain.facts import derive
from services.reporting.service_layer.projection import Context, check_recurrence

log = logging.getLogger(__name__)

DERIVED_TABLES = ("reporting.callbacks", "reporting.escalations", "reporting.cases")


def rebuild(pool, context: Context, batch: int = 1000) -> int:
    """Delete every derived row and derive each case again from its stored events; how many cases."""
    count = 0
    with pool.connection() as conn, conn.transaction():
        for table in DERIVED_TABLES:
            conn.execute(f"DELETE FROM {table}")  # noqa: S608 — constant table names
        events, cases = EventStore(conn), CaseStore(conn)
        for ids in events.cases(batch):
            histories = events.of_cases([complaint_id for complaint_id, _ in ids])
            for complaint_id, mall_id in ids:
                facts = derive(complaint_id, mall_id, histories[complaint_id], context.zone)
                cases.save(facts)
                if facts.problem_key and facts.received_at:
                    check_recurrence(conn, facts, context)
            count += len(ids)
        cases.mark_erased_again()
    context.outbox.committed()
    log.info("read model rebuilt", extra={"cases": count})
    return count
