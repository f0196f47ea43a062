"""Every message type the services send each other, in one place: its name, its payload's fields,
who publishes it and what it means.

Producers and consumers import these constants instead of writing the strings. The payload schemas
that validate the fields live in `envelope.py` (a unit test keeps the two lists of fields equal), and
docs/amqp.md lists the same types. The events a diagram element announces (`STEP_EVENTS`) are
published by routing as the diagram names them; the ones the code itself reads have constants too.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EventType:
    """One message type: its name (the routing key), its payload's fields, who sends it, what it says."""

    name: str
    fields: tuple[str, ...]
    publisher: str
    meaning: str


COMPLAINT_RECEIVED = "complaint.received"
COMPLAINT_CORRECTED = "complaint.corrected"
COMPLAINT_MERGED = "complaint.merged"
COMPLAINT_ACKNOWLEDGED = "complaint.acknowledged"
COMPLAINT_TRIAGED = "complaint.triaged"
COMPLAINT_ESCALATED = "complaint.escalated"
COMPLAINT_RESOLVED = "complaint.resolved"
COMPLAINT_REPLIED = "complaint.replied"
COMPLAINT_REOPENED = "complaint.reopened"
COMPLAINT_CLOSED = "complaint.closed"
COMPLAINT_OUTSIDE_ROUTE = "complaint.outside_route"
COMPLAINT_BECAME_MAJOR = "complaint.became_major"
COMPLAINT_NO_CONTACT = "complaint.no_contact"
COMPLAINT_CALLED_BACK = "complaint.called_back"
COMPLAINT_POSTPONED = "complaint.postponed"
CAPA_OPENED = "capa.opened"
TASK_CREATED = "task.created"
TASK_CLAIMED = "task.claimed"
TASK_COMPLETED = "task.completed"
TASK_CANCELLED = "task.cancelled"
NOTIFICATION_REQUESTED = "notification.requested"
NOTIFICATION_SENT = "notification.sent"
NOTIFICATION_FAILED = "notification.failed"
RETENTION_ERASURE_REQUESTED = "retention.erasure_requested"
RETENTION_ERASED = "retention.erased"
REFERENCE_CHANGED = "reference.changed"

# Commands from departments' own systems, on the commands exchange (routing key = command type).
TASK_COMPLETE = "task.complete"
CASE_MESSAGE = "case.message"

COMPLAINT_FIELDS = (
    "id",
    "number",
    "channel",
    "category",
    "severity",
    "major_reasons",
    "status",
    "customer",
    "occurred_at",
    "received_at",
    "floor",
    "merchant",
    "department",
    "about_department_manager",
    "handle_directly",
    "description",
    "customer_request",
    "amount",
    "people_count",
    "injury",
    "media_exposure",
    "lawsuit",
    "promised_reply_date",
    "policy",
    "email_thread",
)
TASK_FIELDS = (
    "task_id",
    "queue",
    "element_id",
    "title",
    "titles",
    "number",
    "state",
    "floor",
    "department",
    "assignee",
    "due_at",
    "form",
    "instructions",
    "data",
)
STEP_FIELDS = ("number", "element_id", "element_name", "queue", "data")
NOTIFICATION_FIELDS = ("request_id", "delivery_id", "kind", "to", "number", "audience", "channel", "attempts")

_DIAGRAM = "routing (as the diagram's element declares it)"

# Events a diagram element may announce when it completes (its `event` property), with their meaning.
_STEPS = {
    COMPLAINT_ACKNOWLEDGED: "the desk acknowledged the complaint to the customer",
    COMPLAINT_TRIAGED: "the complaint reached its first queue",
    COMPLAINT_ESCALATED: "the case went up a level (a timer ran out or someone escalated it)",
    COMPLAINT_RESOLVED: "the responsible party resolved the complaint",
    COMPLAINT_REPLIED: "the customer was given the answer",
    COMPLAINT_REOPENED: "a closed or replied case was opened again",
    COMPLAINT_CLOSED: "the case closed (or was closed into a collective complaint by a merge)",
    COMPLAINT_OUTSIDE_ROUTE: "the complaint is not the mall's to handle: the customer is told where to go",
    COMPLAINT_BECAME_MAJOR: "the case was judged major on the way",
    COMPLAINT_NO_CONTACT: "nobody to reply to or call back (an anonymous note): closed after resolution",
    COMPLAINT_CALLED_BACK: "a callback made: reached, satisfied (the reports' satisfaction)",
    COMPLAINT_POSTPONED: "a reply date postponed with the customer's agreement: new_reply_date",
}

EVENTS: dict[str, EventType] = {
    event.name: event
    for event in (
        EventType(COMPLAINT_RECEIVED, COMPLAINT_FIELDS, "intake", "a complaint was recorded"),
        EventType(
            COMPLAINT_CORRECTED,
            ("complaint", "changes", "reason"),
            "intake",
            "the desk corrected a complaint: the whole record, what changed and why",
        ),
        EventType(
            COMPLAINT_MERGED,
            ("number", "into_id", "into_number", "reason"),
            "intake",
            "a complaint was folded into a collective one: its case closes pointing to it",
        ),
        *(EventType(name, STEP_FIELDS, _DIAGRAM, meaning) for name, meaning in _STEPS.items()),
        *(
            EventType(name, TASK_FIELDS, "routing", meaning)
            for name, meaning in (
                (TASK_CREATED, "a human task is waiting in a queue"),
                (TASK_CLAIMED, "someone claimed, unclaimed or reassigned a task"),
                (TASK_COMPLETED, "a task was completed (its form data in `data`)"),
                (TASK_CANCELLED, "the case moved on without the task"),
            )
        ),
        EventType(
            CAPA_OPENED,
            (
                "capa_id",
                "problem_key",
                "category",
                "merchant_code",
                "merchant_name",
                "floor",
                "department",
                "occurrences",
                "window_days",
                "complaint_ids",
                "numbers",
                "queue",
            ),
            "reporting",
            "a recurring problem: a corrective and preventive action record opened",
        ),
        EventType(
            NOTIFICATION_REQUESTED,
            ("kind", "to", "number", "element_id", "data", "department"),
            "routing",
            "the diagram asks notify to deliver a message about a complaint; one with a `department` (a "
            "department asked to act) goes out under the routing key `notification.requested.department`, "
            "which intake also takes: that department reads the case from then on",
        ),
        EventType(NOTIFICATION_SENT, NOTIFICATION_FIELDS, "notify", "notify delivered a message"),
        EventType(
            NOTIFICATION_FAILED,
            (*NOTIFICATION_FIELDS, "reason", "error"),
            "notify",
            "notify could not deliver a message, so the desk can act",
        ),
        EventType(
            RETENTION_ERASURE_REQUESTED,
            ("complaint_ids", "closed_before", "reason", "request_id"),
            "reporting (retention), intake (a customer's request)",
            "every service must erase the personal data of these complaints",
        ),
        EventType(
            RETENTION_ERASED,
            ("service", "complaint_ids"),
            "intake, routing, notify",
            "a service erased the personal data it held for these complaints",
        ),
        EventType(
            REFERENCE_CHANGED,
            ("floors", "departments"),
            "intake",
            "the mall's floors and departments, the whole list, after any of them changed",
        ),
    )
}

COMMANDS: dict[str, EventType] = {
    command.name: command
    for command in (
        EventType(
            TASK_COMPLETE,
            ("task_id", "data"),
            "a department's own system",
            "complete a task with its form's data",
        ),
        EventType(
            CASE_MESSAGE,
            ("name", "data", "idempotency_key", "ttl_seconds"),
            "a department's own system",
            "deliver a message a case waits for (its case: the envelope's `complaint_id`)",
        ),
    )
}

STEP_EVENTS = frozenset(_STEPS)
TASK_EVENTS = (TASK_CREATED, TASK_CLAIMED, TASK_COMPLETED, TASK_CANCELLED)
# Who a diagram element may ask to notify (its `notify_to` property), besides the staff queues.
NOTIFY_PARTIES = frozenset({"customer", "merchant"})
