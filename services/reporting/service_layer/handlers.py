"""Reporting's handler tables: which handler the message bus gives each command and each event.

Every handler is `handler(message, uow, context)`. A case's events are kept, and their cases
derived, as the consumer's transaction ends (see projection.py).

Reporting's queue is bound by pattern (complaint.#, task.#, retention.#, reference.#); the event
types below are every one of services/common/bus/events.py those patterns take. An event of a type
not named here (a producer newer than reporting) is acknowledged and counted `ignored`.
"""

from __future__ import annotations

from services.common.bus.events import (
    COMPLAINT_ACKNOWLEDGED,
    COMPLAINT_BECAME_MAJOR,
    COMPLAINT_CALLED_BACK,
    COMPLAINT_CLOSED,
    COMPLAINT_CORRECTED,
    COMPLAINT_ESCALATED,
    COMPLAINT_MERGED,
    COMPLAINT_NO_CONTACT,
    COMPLAINT_OUTSIDE_ROUTE,
    COMPLAINT_POSTPONED,
    COMPLAINT_RECEIVED,
    COMPLAINT_REOPENED,
    COMPLAINT_REPLIED,
    COMPLAINT_RESOLVED,
    COMPLAINT_TRIAGED,
    REFERENCE_CHANGED,
    RETENTION_ERASED,
    RETENTION_ERASURE_REQUESTED,
    TASK_CANCELLED,
    TASK_CLAIMED,
    TASK_COMPLETED,
    TASK_CREATED,
)
from services.common.bus.topology import SUBSCRIPTIONS
from services.reporting.domain.commands import RebuildReadModel, RunRetention, UpdateCapa
from services.reporting.service_layer.capa import update_capa
from services.reporting.service_layer.context import Context
from services.reporting.service_layer.erasure import erase_on_request, record_erased
from services.reporting.service_layer.projection import keep_event, project_event
from services.reporting.service_layer.rebuild import rebuild
from services.reporting.service_layer.retention import run_retention

__all__ = ["COMMAND_HANDLERS", "EVENT_HANDLERS", "Context"]

# A case's events: derived again when a fact reads them. Any complaint.* event is read when its data
# announces a reply_due (domain/facts.py `reads`), so every one goes to the projection, which decides.
CASE_EVENTS = (
    COMPLAINT_RECEIVED,
    COMPLAINT_CORRECTED,
    COMPLAINT_MERGED,
    COMPLAINT_ACKNOWLEDGED,
    COMPLAINT_TRIAGED,
    COMPLAINT_ESCALATED,
    COMPLAINT_RESOLVED,
    COMPLAINT_REPLIED,
    COMPLAINT_REOPENED,
    COMPLAINT_CLOSED,
    COMPLAINT_OUTSIDE_ROUTE,
    COMPLAINT_BECAME_MAJOR,
    COMPLAINT_NO_CONTACT,
    COMPLAINT_CALLED_BACK,
    COMPLAINT_POSTPONED,
    TASK_CREATED,
    TASK_COMPLETED,
    TASK_CANCELLED,
)
# Kept and nothing more: no fact reads a claim; the newest reference.changed names the reports' places.
KEPT_EVENTS = (TASK_CLAIMED, REFERENCE_CHANGED)

EVENTS_QUEUE = "reporting.events"  # bound to every complaint, task, retention and reference event

COMMAND_HANDLERS = {
    UpdateCapa: update_capa,
    RunRetention: run_retention,
    RebuildReadModel: rebuild,
}
EVENT_HANDLERS = {
    **dict.fromkeys(CASE_EVENTS, project_event),
    **dict.fromkeys(KEPT_EVENTS, keep_event),
    RETENTION_ERASURE_REQUESTED: erase_on_request,
    RETENTION_ERASED: record_erased,
    # A type this version does not know yet (a producer upgraded first) is kept all the same, so a
    # rebuild after reporting learns it derives from it: nothing bound to reporting's queue is lost.
    **dict.fromkeys(SUBSCRIPTIONS[EVENTS_QUEUE], keep_event),
}
