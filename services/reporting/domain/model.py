"""What reporting knows of a case: the events it received, and the facts derived from all of them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any


@dataclass(frozen=True)
class Event:
    """One consumed event, as stored: enough to derive a case's facts again at any time."""

    id: str
    type: str
    occurred_at: datetime
    complaint_id: str | None
    payload: dict[str, Any]
    actor_id: str | None = None
    actor_role: str | None = None


@dataclass(frozen=True)
class Escalation:
    """A case taken one level up: by a handler, by a timer, or when the reply dates ran out."""

    event_id: str
    at: datetime
    level: str | None  # the queue it went to
    element_id: str


@dataclass(frozen=True)
class Callback:
    """One callback attempt (回访): whether the customer was reached, and satisfied."""

    event_id: str
    at: datetime
    reached: bool
    satisfied: bool


@dataclass(frozen=True)
class Customer:
    name: str | None = None
    phone: str | None = None
    email: str | None = None
    preferred_reply_channel: str | None = None
    anonymous: bool = False
    contact_opt_out: bool = False


@dataclass(frozen=True)
class CaseFacts:
    """Everything the reports read of one complaint, derived from the whole set of its events."""

    complaint_id: str
    mall_id: str
    number: str | None = None
    received_at: datetime | None = None
    channel: str | None = None
    category: str | None = None
    severity: str | None = None
    floor: str | None = None
    merchant_code: str | None = None
    merchant_name: str | None = None
    merchant_unit: str | None = None  # the shop's unit (3F-005): a shop is named by its name and unit
    department: str | None = None
    first_queue: str | None = None
    customer: Customer = field(default_factory=Customer)
    customer_request: tuple[str, ...] = ()  # what the customer asks for: refund, apology …
    promised_reply_date: date | None = None
    reply_due_at: datetime | None = None
    first_replied_at: datetime | None = None
    resolved_at: datetime | None = None
    resolution_count: int = 0
    reopen_count: int = 0
    closed_at: datetime | None = None
    closed_as: str | None = None
    outcome: str | None = None
    cost: Decimal | None = None
    responsible_party: str | None = None
    root_cause: str | None = None
    # the names of the party and cause chosen, as the close form named its options: field -> language -> name
    closing_names: dict[str, dict[str, str]] = field(default_factory=dict)
    outside_route: str | None = None
    open_queues: tuple[str, ...] = ()
    next_task_due_at: datetime | None = None
    escalations: tuple[Escalation, ...] = ()
    callbacks: tuple[Callback, ...] = ()

    @property
    def replied_on_time(self) -> bool | None:
        if self.first_replied_at is None or self.reply_due_at is None:
            return None
        return self.first_replied_at <= self.reply_due_at

    @property
    def problem_key(self) -> str | None:
        """The same problem (PROCESS.md, CAPA): the same category at the same merchant, or else on the
        same floor, or else of the same department."""
        if self.category is None:
            return None
        places = (("merchant", self.merchant_code), ("floor", self.floor), ("department", self.department))
        for kind, value in places:
            if value:
                return f"{self.category}|{kind}:{value}"
        return None
