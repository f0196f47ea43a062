"""What intake can be asked to do: imperative, frozen, plain values."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from services.intake.domain.model import Category, Channel, Customer, CustomerRequest


@dataclass(frozen=True)
class RecordComplaint:
    """Record a new complaint as given at the desk or on the web form."""

    channel: Channel
    category: Category
    customer: Customer
    description: str
    actor_id: str
    actor_role: str | None
    occurred_at: datetime | None = None
    floor: str | None = None
    merchant_code: str | None = None
    department: str | None = None
    about_department_manager: bool = False
    handle_directly: bool = False
    customer_request: tuple[CustomerRequest, ...] = ()
    amount: Decimal | None = None
    people_count: int = 1
    injury: bool = False
    media_exposure: bool = False
    lawsuit: bool = False
    promised_reply_date: date | None = None
    consented: bool = False  # the customer agreed to the web form's notice of what is collected and why
    idempotency_key: str | None = None
    fingerprint: str | None = None
    # An e-mailed complaint's first message (message_id, subject): notify answers in its thread.
    email_thread: dict[str, str] | None = None


@dataclass(frozen=True)
class CheckComplaint:
    """Judge by the intake rules what could be read of a complaint whose request the schema refused,
    so the desk learns every problem in one answer. `unread` names the fields the request gave that
    could not be read (or lacked): `draft` holds None or the default there, and no rule judges them."""

    draft: RecordComplaint
    unread: frozenset[str]


@dataclass(frozen=True)
class ExportCustomerData:
    """Hand out a copy of everything intake holds of a customer's complaints (PIPL), audited."""

    contact: str  # the phone number or e-mail address the complaints hold
    reason: str
    actor_id: str
    actor_role: str | None


@dataclass(frozen=True)
class EraseCustomerData:
    """Erase a customer's personal data from every complaint of theirs, before the retention period
    ends, because they asked (PIPL); the counts stay, as with retention. Audited."""

    contact: str
    reason: str
    actor_id: str
    actor_role: str | None


@dataclass(frozen=True)
class AttachFiles:
    """Keep files (photos, a receipt, a scanned letter, a recording) with a complaint: all or none."""

    complaint_id: str
    files: tuple[tuple[str, bytes], ...]  # (name as sent, content)
    source: str  # domain.attachments.Source
    actor_id: str
    actor_role: str | None
    language: str = "zh-CN"  # for the reasons a file is refused
    task_id: str | None = None


@dataclass(frozen=True)
class CheckFiles:
    """Judge files as `AttachFiles` would, keeping none: a form that records a complaint with files
    asks first, so a refused file stops the complaint instead of being lost after it."""

    files: tuple[tuple[str, bytes], ...]  # (name as sent, content)
    language: str = "zh-CN"


@dataclass(frozen=True)
class CorrectComplaint:
    """Correct fields of a recorded complaint, keeping the old values in its history."""

    complaint_id: str
    changes: dict[str, Any]
    reason: str
    actor_id: str
    actor_role: str | None
    customer_changes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class LinkComplaints:
    """Mark two complaints as about one incident (both show the other as related)."""

    complaint_id: str
    related_id: str
    actor_id: str
    actor_role: str | None


@dataclass(frozen=True)
class MergeComplaints:
    """Fold individual complaints about one incident into one collective complaint (`into`): its
    people count becomes the sum, its severity follows; the others close pointing to it."""

    into_id: str
    merged_ids: tuple[str, ...]
    reason: str
    actor_id: str
    actor_role: str | None
