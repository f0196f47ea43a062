"""Retention (PROCESS.md: records kept 2 years): reporting decides which complaints are due and asks
every service to erase their personal data, erasing its own copy in the same transaction.

Cases closed before the cut-off day (today in the mall minus POLICY_RETENTION_DAYS) go out in batches
of at most 1,000 ids as `retention.erasure_requested`; intake, routing and notify each erase what
they hold and answer `retention.erased`. Only one job runs at a time (an advisory lock), and a case is
asked for once: its `erased_at` is set with the request.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from services.common.bus.envelope import event
from services.common.bus.events import RETENTION_ERASURE_REQUESTED
from services.common.messagebus import MessageBus
from services.common.polling import PollingLoop
from services.reporting.domain.commands import RunRetention
from services.reporting.metrics import RETENTION_RUNS
from services.reporting.service_layer.context import OWN, Context
from services.reporting.service_layer.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

MAX_BATCH = 1000


@dataclass
class RetentionResult:
    closed_before: date
    dry_run: bool
    cases: list[dict[str, Any]] = field(default_factory=list)  # what was (or would be) erased
    batches: int = 0
    skipped: bool = False  # another job held the lock


def cutoff(context: Context) -> tuple[date, datetime]:
    """The first day whose closures are kept, and its first instant in the mall."""
    day = (context.clock.now() - context.policy.retention).astimezone(context.zone).date()
    return day, datetime.combine(day, time.min, context.zone)


def run_retention(command: RunRetention, uow: UnitOfWork, context: Context) -> RetentionResult:
    """Erase (or, dry, list) every case due; each batch in a transaction of its own (uow entered again)."""
    day, moment = cutoff(context)
    result = RetentionResult(closed_before=day, dry_run=command.dry_run)
    size = max(1, min(command.batch_size, MAX_BATCH))
    due: list[dict[str, Any]] = []
    while True:
        last = due[-1] if due else None
        with uow:
            if not uow.retention.take_job_lock():
                result.skipped = True
                return result
            after = (last["closed_at"], last["complaint_id"]) if command.dry_run and last else None
            due = uow.cases.closed_before(context.mall_id, moment, size, after)
            if due and not command.dry_run:
                _erase_batch(uow, context, day, [row["complaint_id"] for row in due])
        result.cases += [
            {
                "complaint_id": row["complaint_id"],
                "number": row["number"],
                "closed_at": row["closed_at"].isoformat(),
            }
            for row in due
        ]
        result.batches += 1 if due else 0
        if len(due) < size:
            return result


def _erase_batch(uow: UnitOfWork, context: Context, day: date, complaint_ids: list[str]) -> None:
    now = context.clock.now()
    uow.cases.erase(complaint_ids, now)
    uow.events.erase(complaint_ids)
    envelope = event(
        RETENTION_ERASURE_REQUESTED,
        mall_id=context.mall_id,
        actor=OWN,
        at=now,
        payload={"complaint_ids": complaint_ids, "closed_before": day.isoformat()},
    )
    uow.retention.add_request(envelope.id, context.mall_id, day, complaint_ids, now)
    uow.publish(envelope)
    log.info(
        "retention: erasure requested", extra={"count": len(complaint_ids), "closed_before": day.isoformat()}
    )


class RetentionScheduler(PollingLoop):
    """A reporting worker's loop: run the retention job now, then every RETENTION_INTERVAL_HOURS."""

    label = "retention scheduler"

    def __init__(self, bus: MessageBus, interval_seconds: float):
        super().__init__(interval_seconds)
        self.bus = bus

    def poll(self) -> bool:
        self.run_once()
        return False  # one run erases every case due: the next is an interval away

    def run_once(self) -> str:
        """One run of the job, counted by its outcome: erased, nothing_due, skipped or failed."""
        outcome = self._outcome()
        RETENTION_RUNS.labels(outcome).inc()
        return outcome

    def _outcome(self) -> str:
        try:
            result = self.bus.handle(RunRetention())
        except Exception:  # the next run tries again; a worker must not die of a bad night
            log.exception("retention job failed")
            return "failed"
        if result.cases:
            log.info("retention job done", extra={"erased": len(result.cases)})
        return "skipped" if result.skipped else "erased" if result.cases else "nothing_due"
