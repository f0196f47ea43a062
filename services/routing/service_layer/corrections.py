"""A complaint corrected at the desk reaches its case: the workflow sees the corrected complaint.

Intake lets the promised reply date be corrected only on the day of intake (later, a changed date is
a postponement the customer agrees to); the case's reply deadlines are computed from it, so they
follow. Other corrections reach the steps still to come (a phone added to an anonymous note means
the customer can be answered after all); a triage already taken is not taken again.

A correction that makes a normal complaint major (PROCESS.md "Severity": a merge that brings a
collective complaint to ten or more people, or an injury, a lawsuit… found later) hands the case the
message `made_major`: the diagram's handling tasks below the store manager catch it and send the case
to the store manager, as triage sends a complaint major from the start. A case not at such a task
gets it when it next is (the message waits); the event delivered twice hands it over once (the
message's key is the event's id).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from services.common.bus.envelope import Envelope
from services.routing.domain.model import CaseStatus
from services.routing.engine.step_request import Step
from services.routing.service_layer.context import Context
from services.routing.service_layer.steps import SYSTEM, advance_case
from services.routing.service_layer.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)
MADE_MAJOR = "made_major"  # the message a diagram's handling tasks catch to go to the store manager
# How long the message waits for a case that is not at a handling task (tracking a department,
# replying…): a case reopened within it still goes to the store manager.
MADE_MAJOR_WAITS = timedelta(days=90)


class CaseNotStarted(Exception):
    """The correction came before its complaint's case was started: retried later."""


def correct_case(envelope: Envelope, uow: UnitOfWork, context: Context) -> bool:
    """Hand the corrected complaint to its running case; False when the case has finished."""
    with uow:
        case = uow.cases.lock(envelope.complaint_id)
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
        uow.cases.add_timeline(case.id, now, actor.id, actor.role, "complaint_corrected", None, None, detail)
        if "merged" in changes:
            merged = {
                "merged": "、".join(changes["merged"].get("new") or []),
                "people_count": complaint.get("people_count"),
                "reason": envelope.payload.get("reason"),
            }
            uow.cases.add_timeline(
                case.id, now, actor.id, actor.role, "complaints_merged_in", None, None, merged
            )
        if _made_major(changes):
            _hand_over_made_major(uow, case.id, envelope, complaint, now)
        return advance_case(
            uow, context, case, Step(case.state, data={"complaint": complaint}), SYSTEM, "correction"
        )


def _made_major(changes: dict) -> bool:
    severity = changes.get("severity")
    return isinstance(severity, dict) and severity.get("new") == "major" and severity.get("old") != "major"


def _hand_over_made_major(uow: UnitOfWork, case_id: str, envelope: Envelope, complaint: dict, now) -> None:
    """Keep the message `made_major` for the case (the step that follows hands it over), once per event."""
    key = f"{MADE_MAJOR}:{envelope.id}"
    if uow.messages.seen(key):
        return
    reasons = list(complaint.get("major_reasons") or [])
    payload = {"major_reasons": reasons, "people_count": complaint.get("people_count")}
    uow.messages.buffer(case_id, MADE_MAJOR, payload, key, now, now + MADE_MAJOR_WAITS)
    actor = envelope.actor
    uow.cases.add_timeline(
        case_id, now, actor.id, actor.role, "severity_raised", None, None, {"major_reasons": reasons}
    )
