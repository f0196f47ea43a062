"""Rebuilding the read model from scratch: every case derived again from the events reporting kept.

One transaction: readers see the old figures until the new ones are complete, and a case an event
reaches meanwhile is derived again by its consumer once the rebuild has committed. CAPA records are
the operations manager's and stay; a recurrence the rebuild finds without one opens one.
"""

from __future__ import annotations

import logging

from services.reporting.domain.commands import RebuildReadModel
from services.reporting.domain.facts import derive
from services.reporting.service_layer.context import Context
from services.reporting.service_layer.projection import check_recurrence
from services.reporting.service_layer.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)


def rebuild(command: RebuildReadModel, uow: UnitOfWork, context: Context) -> int:
    """Delete every derived row and derive each case again from its stored events; how many cases."""
    count = 0
    with uow:
        uow.cases.clear_derived()
        for ids in uow.events.cases(command.batch_size):
            histories = uow.events.of_cases([complaint_id for complaint_id, _ in ids])
            for complaint_id, mall_id in ids:
                facts = derive(complaint_id, mall_id, histories[complaint_id], context.zone)
                uow.cases.save(facts)
                if facts.problem_key and facts.received_at:
                    check_recurrence(uow, facts, context)
            count += len(ids)
        uow.cases.mark_erased_again()
    log.info("read model rebuilt", extra={"cases": count})
    return count
