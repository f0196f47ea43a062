"""Intake's unit of work in memory: the repositories its handlers use, as dicts and lists.

Each fake keeps only what a handler's test looks at; the SQL behind the real ones (the CTE that
inserts a complaint with its event, the day's counter, the late-event guards) is tested against
PostgreSQL in tests/integration.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from services.common.clock import MovableClock
from services.common.settings import Policy
from services.intake.domain.attachments import Attachment
from services.intake.domain.cases import StageChange, TaskHolder
from services.intake.domain.model import Complaint, Customer, Merchant
from services.intake.domain.privacy import Contact, PrivacyRequest
from services.intake.domain.rules import ReferenceCheck
from services.intake.service_layer.handlers import Context
from tests.unit.fakes.transaction import InMemoryUnitOfWork

MALL = "demo"
MERCHANTS = {"3F-12": Merchant(code="3F-12", shop_name="优品酸奶", floor="3F")}
FLOORS = {"1F", "2F", "3F"}
DEPARTMENTS = {"property", "security"}


def context(now: datetime = datetime(2026, 11, 22, 2, 0, tzinfo=UTC)) -> Context:
    return Context(mall_id=MALL, policy=Policy(), zone=ZoneInfo("Asia/Shanghai"), clock=MovableClock(now))


class FakeComplaints:
    def __init__(self) -> None:
        self.rows: dict[str, Complaint] = {}
        self.histories: dict[str, list[dict[str, Any]]] = {}
        self.resolutions: dict[str, list[str]] = {}
        self.counters: dict[tuple[str, date], int] = {}

    def add(self, complaint: Complaint) -> None:
        self.rows[complaint.id] = complaint

    def get(self, mall_id: str, complaint_id: str, for_update: bool = False) -> Complaint | None:
        found = self.rows.get(complaint_id)
        return found if found is not None and found.mall_id == mall_id else None

    def update(self, complaint: Complaint) -> None:
        self.rows[complaint.id] = complaint

    def next_number(self, mall_id: str, day: date) -> int:
        self.counters[mall_id, day] = self.counters.get((mall_id, day), 0) + 1
        return self.counters[mall_id, day]

    def add_history(self, complaint_id, at, actor, role, reason, changes) -> None:
        entry = {"changed_at": at, "changed_by": actor, "role": role, "reason": reason, "changes": changes}
        self.histories.setdefault(complaint_id, []).append(entry)

    def history(self, complaint_id: str) -> list[dict[str, Any]]:
        return self.histories.get(complaint_id, [])

    def add_resolution(self, complaint_id: str, resolution: str) -> None:
        self.resolutions.setdefault(complaint_id, []).append(resolution)


class FakeReference:
    def check(self, mall_id, floor, merchant_code, department) -> tuple[ReferenceCheck, Merchant | None]:
        merchant = MERCHANTS.get(merchant_code) if merchant_code is not None else None
        check = ReferenceCheck(
            floor_known=floor is None or floor in FLOORS,
            merchant_known=merchant_code is None or merchant is not None,
            merchant_floor=merchant.floor if merchant else None,
            department_known=department is None or department in DEPARTMENTS,
        )
        return check, merchant

    def committed(self) -> None:
        pass


class FakeIdempotency:
    def __init__(self) -> None:
        self.keys: dict[tuple[str, str], dict[str, Any]] = {}

    def find(self, mall_id: str, key: str | None) -> dict[str, Any] | None:
        return self.keys.get((mall_id, key)) if key else None

    def claim(self, mall_id: str, key: str, fingerprint: str, complaint_id: str) -> dict[str, Any] | None:
        earlier = self.keys.get((mall_id, key))
        if earlier is None:
            self.keys[mall_id, key] = {"fingerprint": fingerprint, "complaint_id": complaint_id}
        return earlier


class FakePrivacy:
    def __init__(self, complaints: FakeComplaints) -> None:
        self.complaints = complaints
        self.requests: list[PrivacyRequest] = []
        self.erased: list[str] = []

    def find(self, mall_id: str, contact: Contact, for_update: bool = False) -> list[Complaint]:
        def holds(customer: Customer) -> bool:
            value = customer.phone if contact.kind == "phone" else customer.email
            return (value or "").lower() == contact.value.lower()

        found = [c for c in self.complaints.rows.values() if c.mall_id == mall_id and holds(c.customer)]
        return sorted(found, key=lambda c: (c.received_at, c.number))

    def add(self, request: PrivacyRequest) -> None:
        self.requests.append(request)

    def erase(self, complaint_ids: list[str]) -> list[str]:
        found = [complaint_id for complaint_id in complaint_ids if complaint_id in self.complaints.rows]
        for complaint_id in found:
            complaint = self.complaints.rows[complaint_id]
            self.complaints.rows[complaint_id] = complaint.with_changes(customer=Customer(anonymous=True))
        self.erased.extend(found)
        return found


class FakeAttachments:
    def __init__(self) -> None:
        self.rows: list[Attachment] = []

    def add(self, attachment: Attachment) -> None:
        self.rows.append(attachment)


class FakeLinks:
    def __init__(self) -> None:
        self.pairs: dict[frozenset[str], str] = {}
        self.into: dict[str, str] = {}

    def link(self, first: str, second: str, kind: str, actor: str, at: datetime) -> bool:
        pair = frozenset((first, second))
        added = pair not in self.pairs
        self.pairs.setdefault(pair, kind)
        return added

    def mark_merged(self, complaint_id: str, into_id: str) -> None:
        self.into[complaint_id] = into_id

    def merged_into(self, complaint_ids: list[str]) -> dict[str, str | None]:
        return {complaint_id: self.into.get(complaint_id) for complaint_id in complaint_ids}


class FakeHolders:
    def __init__(self) -> None:
        self.tasks: dict[str, TaskHolder] = {}
        self.kept: list[TaskHolder] = []
        self.told: set[tuple[str, str]] = set()  # (complaint id, department)

    def tell_department(self, complaint_id: str, department: str, at) -> None:
        self.told.add((complaint_id, department))

    def add(self, holder: TaskHolder) -> None:
        self.kept.append(holder)

    def write(self) -> None:
        for holder in self.kept:
            earlier = self.tasks.get(holder.task_id)
            if earlier is None or earlier.event_at <= holder.event_at:
                self.tasks[holder.task_id] = holder
        self.kept.clear()


class FakeProgress:
    def __init__(self) -> None:
        self.cases: dict[str, StageChange] = {}

    def record(self, change: StageChange) -> None:
        self.cases[change.complaint_id] = change


class FakeObjects:
    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}

    def put(self, key: str, data: bytes, media_type: str) -> None:
        self.files[key] = data

    def delete(self, keys: list[str]) -> None:
        for key in keys:
            self.files.pop(key, None)


class FakeUnitOfWork(InMemoryUnitOfWork):
    """The service\'s repositories in memory (tests/unit/fakes/transaction.py keeps the
    transaction and its events)."""

    def __init__(self) -> None:
        super().__init__()
        self.complaints = FakeComplaints()
        self.reference = FakeReference()
        self.idempotency = FakeIdempotency()
        self.privacy = FakePrivacy(self.complaints)
        self.attachments = FakeAttachments()
        self.links = FakeLinks()
        self.holders = FakeHolders()
        self.progress = FakeProgress()
        self.objects = FakeObjects()

    def take_number(self, mall_id: str, day: date) -> int:
        assert self.statement_commits, "the number is taken outside the complaint's transaction"
        return self.complaints.next_number(mall_id, day)

    def record_first(self, complaint, event, idempotency_key, fingerprint) -> dict[str, Any] | None:
        if idempotency_key:
            earlier = self.idempotency.claim(
                complaint.mall_id, idempotency_key, fingerprint or "", complaint.id
            )
            if earlier is not None:
                return earlier
        self.complaints.add(complaint)
        self.published.append(event)  # one statement, committed by itself
        return None
