"""A complaint the desk merged into a collective one: its case closes pointing to it.

Its open tasks are cancelled (and announced, so departments' queues and intake drop them), the timeline
says where it went, and `complaint.closed` carries `closed_as: merged` so reporting counts the case as
closed by the merge, not as answered or late. Nothing is erased: the record, the timeline and the
collective complaint's link stay.
"""

from __future__ import annotations

import logging
from dataclasses import asdict

from services.common.bus.envelope import Envelope, event
from services.common.bus.events import COMPLAINT_CLOSED, TASK_CANCELLED
from services.routing.domain.model import CaseStatus, Task, TaskState
from services.routing.service_layer.context import Context
from services.routing.service_layer.corrections import CaseNotStarted
from services.routing.service_layer.steps import announce
from services.routing.service_layer.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)
CLOSED_AS_MERGED = "merged"


def close_merged_case(envelope: Envelope, uow: UnitOfWork, context: Context) -> bool:
    """Close the case of a merged complaint; False when it had ended already (the line is still added)."""
    with uow:
        case = uow.cases.lock(envelope.complaint_id)
        if case is None or case.mall_id != context.mall_id:
            raise CaseNotStarted(f"no case yet for complaint {envelope.complaint_id}")
        now, actor, payload = context.clock.now(), envelope.actor, envelope.payload
        detail = {"into_number": payload["into_number"], "reason": payload["reason"]}
        uow.cases.add_timeline(case.id, now, actor.id, actor.role, "complaint_merged", None, None, detail)
        if case.status == CaseStatus.COMPLETED:
            return False
        for row in uow.tasks.open_for_case(case.id):
            uow.tasks.close(row.id, TaskState.CANCELLED, now, actor.id)
            announce(
                uow, case, Task(**{**asdict(row), "state": TaskState.CANCELLED}), TASK_CANCELLED, actor, now
            )
            uow.cases.add_timeline(
                case.id, now, actor.id, actor.role, "task_cancelled", row.element_id, row.id
            )
        case.status, case.next_due_at, case.updated_at = CaseStatus.COMPLETED, None, now
        uow.cases.save(case)
        uow.cases.add_timeline(case.id, now, actor.id, actor.role, "case_completed")
        closed = {
            "number": case.number,
            "element_id": CLOSED_AS_MERGED,
            "element_name": None,
            "data": {"closed_as": CLOSED_AS_MERGED, "merged_into": payload["into_number"]},
        }
        uow.publish(
            event(COMPLAINT_CLOSED, mall_id=case.mall_id, about=case.id, actor=actor, at=now, payload=closed)
        )
        log.info("case closed by a merge", extra={"number": case.number, "into": payload["into_number"]})
        return True
