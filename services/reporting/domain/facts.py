"""A case's facts as a function of the *set* of its events, whatever order they arrived in.

Events of one case come from intake and routing, through retries and several workers, so they may
arrive in any order, twice, or before the event they follow. Nothing here depends on arrival: the
events are sorted by when they happened (ties broken by a fixed rank of their type, then by id), and
what cannot be told apart by time is counted instead of sequenced (a case is resolved while it has
more resolutions than reopenings). Event types and data keys it does not know are ignored.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from services.common.bus.events import (
    COMPLAINT_ACKNOWLEDGED,
    COMPLAINT_BECAME_MAJOR,
    COMPLAINT_CALLED_BACK,
    COMPLAINT_CLOSED,
    COMPLAINT_CORRECTED,
    COMPLAINT_ESCALATED,
    COMPLAINT_OUTSIDE_ROUTE,
    COMPLAINT_POSTPONED,
    COMPLAINT_RECEIVED,
    COMPLAINT_REOPENED,
    COMPLAINT_REPLIED,
    COMPLAINT_RESOLVED,
    COMPLAINT_TRIAGED,
    TASK_CANCELLED,
    TASK_COMPLETED,
    TASK_CREATED,
)
from services.reporting.domain.model import Callback, CaseFacts, Customer, Escalation, Event
from services.reporting.domain.values import amount, codes, day, end_of_day, moment, text

RECEIVED, CORRECTED = COMPLAINT_RECEIVED, COMPLAINT_CORRECTED
RESOLVED, REOPENED, REPLIED = COMPLAINT_RESOLVED, COMPLAINT_REOPENED, COMPLAINT_REPLIED
CLOSED, ESCALATED, TRIAGED = COMPLAINT_CLOSED, COMPLAINT_ESCALATED, COMPLAINT_TRIAGED
OUTSIDE_ROUTE, BECAME_MAJOR = COMPLAINT_OUTSIDE_ROUTE, COMPLAINT_BECAME_MAJOR
CALLED_BACK, POSTPONED = COMPLAINT_CALLED_BACK, COMPLAINT_POSTPONED  # declared on the diagram's elements
TASK_DONE = (TASK_COMPLETED, TASK_CANCELLED)
# Cases started on diagrams that declared neither event are read from these tasks' completions.
CALLBACK_ELEMENT, POSTPONE_ELEMENT = "callback", "agree_reply_date"

# Within one instant, the order a case's events are produced in.
_RANK = {
    RECEIVED: 0,
    CORRECTED: 1,
    COMPLAINT_ACKNOWLEDGED: 2,
    TRIAGED: 3,
    ESCALATED: 4,
    RESOLVED: 5,
    REPLIED: 6,
    REOPENED: 7,
    OUTSIDE_ROUTE: 8,
    CLOSED: 9,
}


# The types `derive` reads (any `complaint.*` event is read too when it announces a `reply_due`).
# An event of another type changes no fact: it is kept, and its case is not derived again.
_READ = frozenset(
    {RECEIVED, CORRECTED, TRIAGED, ESCALATED, RESOLVED, REPLIED, REOPENED, OUTSIDE_ROUTE, CLOSED}
    | {BECAME_MAJOR, CALLED_BACK, POSTPONED, TASK_CREATED, *TASK_DONE}
)
# Besides their own events, a case's escalations and callbacks carry its floor and department.
_PLACE = frozenset({RECEIVED, CORRECTED})


def reads(event_type: str, payload: dict[str, Any]) -> bool:
    """Whether an event of this type and payload can change its case's facts (`derive` reads it)."""
    if event_type in _READ:
        return True
    data = payload.get("data")
    return event_type.startswith("complaint.") and isinstance(data, dict) and bool(data.get("reply_due"))


def changes_escalations(event_type: str) -> bool:
    """Whether the event can change its case's escalations (their rows are written again after it)."""
    return event_type == ESCALATED or event_type in _PLACE


def changes_callbacks(event_type: str, payload: dict[str, Any]) -> bool:
    """Whether the event can change its case's callbacks: one announced, a callback task's completion
    (read for cases whose diagram announced none), or the case's place."""
    return event_type in (CALLED_BACK, *_PLACE) or (
        event_type == TASK_COMPLETED and payload.get("element_id") == CALLBACK_ELEMENT
    )


def ordered(events: Iterable[Event]) -> list[Event]:
    return sorted(events, key=lambda event: (event.occurred_at, _RANK.get(event.type, 5), event.id))


def derive(complaint_id: str, mall_id: str, events: Iterable[Event], zone: ZoneInfo) -> CaseFacts:
    """The facts of one case from all the events known of it (any order, duplicates harmless)."""
    unique = {event.id: event for event in events}
    history = ordered(unique.values())
    record = _record(history)
    if any(event.type == BECAME_MAJOR for event in history):  # a month unresolved makes it major (PROCESS.md)
        record = {**record, "severity": "major"}
    facts = {
        **_complaint_facts(record, zone),
        **_resolution_facts(history),
        **_reply_facts(history, record, zone),
        **_closing_facts(history),
        **_task_facts(history),
    }
    return CaseFacts(complaint_id=complaint_id, mall_id=mall_id, **facts)


def _record(history: list[Event]) -> dict[str, Any]:
    """The complaint as intake last described it (the received record, or its latest correction)."""
    record: dict[str, Any] = {}
    for event in history:
        if event.type == RECEIVED:
            record = {**record, **event.payload} if record else dict(event.payload)
        elif event.type == CORRECTED and isinstance(event.payload.get("complaint"), dict):
            record = {**record, **event.payload["complaint"]}
    return record


def _complaint_facts(record: dict[str, Any], zone: ZoneInfo) -> dict[str, Any]:
    merchant = record.get("merchant") if isinstance(record.get("merchant"), dict) else {}
    customer = record.get("customer") if isinstance(record.get("customer"), dict) else {}
    return {
        "number": record.get("number"),
        "received_at": moment(record.get("received_at")),
        "channel": record.get("channel"),
        "category": record.get("category"),
        "severity": record.get("severity"),
        "floor": record.get("floor") or merchant.get("floor") or None,
        "merchant_code": merchant.get("code") or None,
        "merchant_name": merchant.get("shop_name") or None,
        "merchant_unit": merchant.get("unit") or None,
        "department": record.get("department"),
        "customer_request": codes(record.get("customer_request")),
        "promised_reply_date": day(record.get("promised_reply_date")),
        "customer": Customer(
            name=customer.get("name"),
            phone=customer.get("phone"),
            email=customer.get("email"),
            preferred_reply_channel=customer.get("preferred_reply_channel"),
            anonymous=bool(customer.get("anonymous")),
            contact_opt_out=bool(customer.get("contact_opt_out")),
        ),
    }


def _resolution_facts(history: list[Event]) -> dict[str, Any]:
    resolutions = [event.occurred_at for event in history if event.type == RESOLVED]
    reopenings = sum(1 for event in history if event.type == REOPENED)
    triaged = [event for event in history if event.type == TRIAGED]
    escalations = tuple(
        Escalation(
            event.id, event.occurred_at, event.payload.get("queue"), event.payload.get("element_id", "")
        )
        for event in history
        if event.type == ESCALATED
    )
    return {
        # Every reopening follows a resolution: while there are more resolutions, the last one stands.
        "resolved_at": max(resolutions) if len(resolutions) > reopenings else None,
        "resolution_count": len(resolutions),
        "reopen_count": reopenings,
        "first_queue": _data(triaged[0]).get("queue") if triaged else None,
        "escalations": escalations,
    }


def _reply_facts(history: list[Event], record: dict[str, Any], zone: ZoneInfo) -> dict[str, Any]:
    replies = [event for event in history if event.type == REPLIED]
    first = replies[0] if replies else None
    due = moment(_data(first).get("reply_due")) if first else None
    return {
        "first_replied_at": first.occurred_at if first else None,
        "reply_due_at": due or _reply_due(history, record, zone),
    }


def _reply_due(history: list[Event], record: dict[str, Any], zone: ZoneInfo) -> datetime | None:
    """The end of the promised reply day, moved by each postponement the policy let through."""
    promised = day(record.get("promised_reply_date"))
    days = [each for each in [promised, *_postponed_to(history, record)] if each is not None]
    announced = [
        moment(_data(event).get("reply_due")) for event in history if event.type.startswith("complaint.")
    ]
    moments = [end_of_day(last, zone) for last in days[-1:]] + [found for found in announced if found]
    return max(moments) if moments else None


def _postponed_to(history: list[Event], record: dict[str, Any]) -> list:
    """The reply dates agreed at each postponement: announced by the diagram (complaint.postponed,
    only those the policy let through), or, for a case whose diagram announced none, the agreed
    completions of its postponement task, up to the policy's limit."""
    declared = [day(_data(event).get("new_reply_date")) for event in history if event.type == POSTPONED]
    if declared:
        return declared
    allowed = (record.get("policy") or {}).get("max_postponements", 2)
    agreed = [
        day(_data(event).get("new_reply_date"))
        for event in history
        if _is_completion(event, POSTPONE_ELEMENT) and _data(event).get("customer_agreed")
    ]
    return agreed[: int(allowed)]


def _callback_events(history: list[Event]) -> list[Event]:
    """Each callback made: announced by the diagram (complaint.called_back), or, for a case whose
    diagram announced none, its callback task's completions."""
    declared = [event for event in history if event.type == CALLED_BACK]
    return declared or [event for event in history if _is_completion(event, CALLBACK_ELEMENT)]


def _closing_facts(history: list[Event]) -> dict[str, Any]:
    closed = [event for event in history if event.type == CLOSED]
    routes = [_data(event).get("outside_route") for event in history if event.type == OUTSIDE_ROUTE]
    route = routes[-1] if routes else None
    data = _data(closed[-1]) if closed else {}
    closed_at = closed[0].occurred_at if closed else None
    return {
        "closed_at": closed_at,
        "closed_as": data.get("closed_as") or ("outside_route" if closed and routes else None),
        "outcome": text(data.get("outcome")),
        "cost": amount(data.get("cost")),
        "responsible_party": text(data.get("responsible_party")),
        "root_cause": text(data.get("root_cause")),
        "closing_names": _closing_names(history, data),
        "outside_route": (route.get("body") if isinstance(route, dict) else text(route)),
        "callbacks": tuple(
            Callback(
                event.id,
                event.occurred_at,
                bool(_data(event).get("reached")),
                # a satisfaction counts from a customer reached only, as the callback form now takes it
                # (callbacks recorded before may say "satisfied" of a customer not reached)
                bool(_data(event).get("reached")) and bool(_data(event).get("satisfied")),
            )
            for event in _callback_events(history)
        ),
    }


# The closing choices the reports count, whose options the diagram's designer names.
CLOSING_CHOICES = ("responsible_party", "root_cause")


def _closing_names(history: list[Event], data: dict[str, Any]) -> dict[str, dict[str, str]]:
    """The names of the responsible party and root cause the case closed with, as the form of the task
    that chose them names its options (its `option_labels` by language, and "" for the name drawn)."""
    names = {}
    for field_id in CLOSING_CHOICES:
        code = text(data.get(field_id))
        asked = _field_asked(history, field_id, code) if code is not None else None
        found = _option_names(asked, code) if asked is not None else {}
        if found:
            names[field_id] = found
    return names


def _field_asked(history: list[Event], field_id: str, code: str) -> dict[str, Any] | None:
    """The form field `field_id` of the last task completed choosing `code` (its form came with it)."""
    for event in reversed(history):
        if event.type == TASK_COMPLETED and _data(event).get(field_id) == code:
            form = event.payload.get("form") if isinstance(event.payload.get("form"), list) else []
            return next(
                (item for item in form if isinstance(item, dict) and item.get("id") == field_id), None
            )
    return None


def _option_names(asked: dict[str, Any], code: str) -> dict[str, str]:
    labels = asked.get("option_labels") if isinstance(asked.get("option_labels"), dict) else {}
    found = {
        language: by_option[code]
        for language, by_option in labels.items()
        if isinstance(by_option, dict) and isinstance(by_option.get(code), str)
    }
    options = asked.get("options") if isinstance(asked.get("options"), (list, tuple)) else ()
    drawn = [
        pair[1] for pair in options if isinstance(pair, (list, tuple)) and len(pair) == 2 and pair[0] == code
    ]
    if drawn and isinstance(drawn[0], str):
        found[""] = drawn[0]
    return found


def _task_facts(history: list[Event]) -> dict[str, Any]:
    """Open tasks: those created and neither completed nor cancelled (a set difference: order-free)."""
    created = {event.payload.get("task_id"): event.payload for event in history if event.type == TASK_CREATED}
    done = {event.payload.get("task_id") for event in history if event.type in TASK_DONE}
    if any(event.type == CLOSED for event in history):
        done |= set(created)  # closing ends every branch, even one whose cancellation is still on its way
    still_open = [task for task_id, task in created.items() if task_id not in done]
    dues = [moment(task.get("due_at")) for task in still_open]
    return {
        "open_queues": tuple(sorted({task.get("queue") for task in still_open if task.get("queue")})),
        "next_task_due_at": min((due for due in dues if due), default=None),
    }


def _is_completion(event: Event, element_id: str) -> bool:
    return event.type == TASK_COMPLETED and event.payload.get("element_id") == element_id


def _data(event: Event | None) -> dict[str, Any]:
    data = event.payload.get("data") if event else None
    return data if isinstance(data, dict) else {}
