"""A complaint corrected at the desk reaches its case: the workflow sees the corrected complaint.

Intake lets the promised reply date be corrected only on the day of intake (later, a changed date is
a postponement the customer agrees to); the case's reply deadlines are computed from it, so they
follow. Other corrections reach the steps still to come (a phone added to an anonymous note means
the customer can be answered after all); a triage already taken is not taken again.
"""

from __future__ import annotations

import logging

from services.common.bus.envelope import Envelope
from services.routing.domain.model import CaseStatus
from services.routing.engine.step_request import Step
from services.routing.service_layer.context import Context
from services.routing.service_layer.session import Session
from services.routing.service_layer.steps import SYSTEM, advance_case

log = logging.getLogger(__name__)


class CaseNotStarted(Exception):
    """The correction came before its complaint's case was started: retried later."""


def correct_case(session: Session, context: Context, envelope: Envelope) -> bool:
    """Hand the corrected complaint to its running case; False when the case has finished."""
    case = session.cases.lock(envelope.complaint_id)
    if case is None or case.mall_id != context.mall_id:
        raise CaseNotStarted(f"no case yet for complaint {envelope.complaint_id}")
    if case.status != CaseStatus.RUNNING:
        log.info("correction after the case ended", extra={"number": case.number, "status": case.status})
        return False
    complaint = {key: value for key, value in envelope.payload["complaint"].items() if key != "policy"}
    changes = envelope.payload.get("changes", {})
    detail = {"fields": sorted(changes), "reason": envelope.payload.get("reason")}
    if "promised_reply_date" in changes:
        detail["promised_reply_date"] = changes["promised_reply_date"]
    now = context.clock.now()
    actor = envelope.actor
    session.cases.add_timeline(case.id, now, actor.id, actor.role, "complaint_corrected", None, None, detail)
    return advance_case(
        session, context, case, Step(case.state, data={"complaint": complaint}), SYSTEM, "correction"
    )
