"""Routing's events about a case, kept by intake: who holds its tasks (to unmask a customer for them,
services/common/identity/holders.py), the departments its notices told (they read it) and the stage
it is at (the customers' status page).

The diagram declares which of its elements announce `complaint.replied`, `complaint.closed`,
`complaint.reopened` and `complaint.postponed` (with the new date the customer agreed to); intake
keeps the stage they leave the case in, never an element id.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from services.common.bus.envelope import Envelope
from services.common.bus.events import (
    COMPLAINT_CLOSED,
    COMPLAINT_POSTPONED,
    COMPLAINT_REOPENED,
    COMPLAINT_REPLIED,
    NOTIFICATION_REQUESTED,
    TASK_CANCELLED,
    TASK_CLAIMED,
    TASK_COMPLETED,
    TASK_CREATED,
)
from services.intake.domain.cases import StageChange, TaskHolder

if TYPE_CHECKING:
    from services.intake.service_layer.handlers import Context
    from services.intake.service_layer.unit_of_work import UnitOfWork

OPENING = (TASK_CREATED, TASK_CLAIMED)
TASK_EVENTS = (*OPENING, TASK_COMPLETED, TASK_CANCELLED)
REPLIED, CLOSED = COMPLAINT_REPLIED, COMPLAINT_CLOSED
REOPENED, POSTPONED = COMPLAINT_REOPENED, COMPLAINT_POSTPONED
PROGRESS_EVENTS = (REPLIED, CLOSED, REOPENED, POSTPONED)
STAGES = {REPLIED: "replied", CLOSED: "closed", REOPENED: "handling", POSTPONED: "handling"}
RESOLUTION_LIMIT = 4000  # characters of a resolution kept for search


def note_task_holder(event: Envelope, uow: UnitOfWork, context: Context) -> None:
    """A task opened, was claimed, done or cancelled: keep who holds it; a done task's resolution
    joins the complaint's searchable text."""
    if not event.complaint_id:
        return
    payload = event.payload
    with uow:
        # A consumer batch's holders are written together, by one statement, as its transaction ends.
        uow.holders.add(_holder(event, payload))
        uow.at_end("holders", uow.holders.write)
        resolution = (payload.get("data") or {}).get("resolution")
        if event.type == TASK_COMPLETED and isinstance(resolution, str) and resolution.strip():
            uow.complaints.add_resolution(event.complaint_id, resolution.strip()[:RESOLUTION_LIMIT])


def note_department_told(event: Envelope, uow: UnitOfWork, context: Context) -> None:
    """A notice asked a department's manager to act on the case (routing sends intake only those,
    `notification.requested.department`): the department reads the complaint from now on."""
    department = event.payload.get("department")
    if event.type != NOTIFICATION_REQUESTED or not event.complaint_id or not isinstance(department, str):
        return
    with uow:
        uow.holders.tell_department(event.complaint_id, department, event.occurred_at)


def note_stage(event: Envelope, uow: UnitOfWork, context: Context) -> None:
    """A case was replied to, closed, reopened or given a new reply date: keep its stage."""
    if not event.complaint_id:
        return
    data = event.payload.get("data") if isinstance(event.payload.get("data"), dict) else {}
    postponed = event.type == POSTPONED
    change = StageChange(
        complaint_id=event.complaint_id,
        mall_id=event.mall_id,
        stage=STAGES[event.type],
        postponed_to=_day(data.get("new_reply_date")) if postponed else None,
        event_at=event.occurred_at,
        keeps_stage=postponed,
    )
    with uow:
        uow.progress.record(change)


def _holder(event: Envelope, payload: dict[str, Any]) -> TaskHolder:
    return TaskHolder(
        task_id=payload["task_id"],
        complaint_id=event.complaint_id,
        mall_id=event.mall_id,
        queue=payload["queue"],
        floor=payload.get("floor"),
        department=payload.get("department"),
        assignee=payload.get("assignee"),
        open=event.type in OPENING,
        event_at=event.occurred_at,
        due_at=payload.get("due_at"),
    )


def _day(value: object) -> date | None:
    try:
        return date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None
