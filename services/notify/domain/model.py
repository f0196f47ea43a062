"""The facts notify keeps and the words it uses: kinds, audiences, channels, delivery states."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any


class Kind(StrEnum):
    """Message kinds the diagram asks for today; any other kind still goes out (generic template)."""

    ACKNOWLEDGEMENT = "acknowledgement"
    ESCALATED = "escalated"
    OVERDUE = "overdue"
    REPLY = "reply"
    WRITTEN_REPLY = "written_reply"
    REPLY_DATES_EXHAUSTED = "reply_dates_exhausted"
    DELIVERY_FAILED = "delivery_failed"  # notify's own: tells the desk a message did not reach


# The reply itself reaches even a customer who asked not to be contacted (PROCESS.md 6).
REPLY_KINDS = frozenset({Kind.REPLY, Kind.WRITTEN_REPLY})
# A written complaint (letter, email) gets a written reply in the mall's name: a letter.
LETTER_KINDS = frozenset({Kind.WRITTEN_REPLY})


class Audience(StrEnum):
    CUSTOMER = "customer"
    MERCHANT = "merchant"
    STAFF = "staff"


class Channel(StrEnum):
    EMAIL = "email"
    SMS = "sms"
    INBOX = "inbox"  # the staff inbox of one user
    WEBHOOK = "webhook"  # a department's own system
    LETTER = "letter"  # a printed letter: the desk prints the PDF and posts it
    NONE = "none"  # nothing sent (suppressed or undeliverable); the row says why


# What rings a customer's or a merchant's phone. Quiet hours keep these till morning; an e-mail or a
# letter waits in a mailbox and wakes nobody, so it goes at once ("acknowledge at once"), and staff
# alerts are never held (an alert held back is a deadline missed).
RINGS = frozenset({Channel.SMS})


def quiet_hours_hold(audience: str, channel: str) -> bool:
    """Whether the quiet hours hold a message to this audience on this channel."""
    return audience != Audience.STAFF and channel in RINGS


class State(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    SUPPRESSED = "suppressed"
    CANCELLED = "cancelled"


LANGUAGES = ("zh-CN", "en")
STAFF_LANGUAGE = "zh-CN"


@dataclass(frozen=True)
class Contact:
    """The customer as the complaint records them; personal data."""

    name: str | None = None
    phone: str | None = None
    email: str | None = None
    address: str | None = None
    anonymous: bool = False
    preferred_reply_channel: str | None = None
    language: str = "zh-CN"
    contact_opt_out: bool = False

    @classmethod
    def of(cls, data: dict[str, Any]) -> Contact:
        known = {name: data[name] for name in cls.__dataclass_fields__ if data.get(name) is not None}
        return cls(**known)


@dataclass(frozen=True)
class ComplaintFacts:
    """What notify keeps of a complaint: who to reach and what to say about it."""

    id: str
    mall_id: str
    number: str
    channel: str
    customer: Contact
    merchant: dict[str, Any] | None = None
    floor: str | None = None
    department: str | None = None
    category: str | None = None
    promised_reply_date: date | None = None
    received_at: datetime | None = None
    email_thread: dict[str, str] | None = None  # an e-mailed complaint's first message: message_id, subject


@dataclass(frozen=True)
class Request:
    """One notification.requested event: a kind of message for `to` about one complaint."""

    id: str
    mall_id: str
    complaint_id: str
    kind: str
    to: str
    number: str
    element_id: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    # the department whose manager is told, when not the complaint's own (another department asked to act)
    department: str | None = None


@dataclass(frozen=True)
class StaffMember:
    username: str
    display_name: str | None
    roles: tuple[str, ...]
    floors: tuple[str, ...] = ()
    departments: tuple[str, ...] = ()


@dataclass(frozen=True)
class Recipient:
    """Where one message goes: audience, channel, address (e-mail, phone, username, URL, postal)."""

    audience: Audience
    channel: Channel
    address: str
    name: str | None = None
    language: str = STAFF_LANGUAGE


@dataclass(frozen=True)
class NotSent:
    """Why a request reaches nobody on some side; `report` when the desk must be told."""

    audience: Audience
    reason: str
    detail: str
    report: bool = False
