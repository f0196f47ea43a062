"""Notify's unit of work in memory: the repositories its handlers use, as dicts and lists.

Each fake keeps only what a handler's test looks at; the SQL behind the real ones (the unique key
that plans a delivery once, the late-event guard on a complaint's facts, the claims' locks) is tested
against PostgreSQL in tests/integration/notify.
"""

from __future__ import annotations

from dataclasses import asdict, replace
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from services.common.clock import MovableClock
from services.notify.adapters.deliveries import Delivery
from services.notify.adapters.templates import TemplateRenderer
from services.notify.domain.model import ComplaintFacts, Contact, Request, StaffMember
from services.notify.domain.privacy import ERASED, scrub
from services.notify.service_layer.context import Context
from tests.unit.fakes.transaction import InMemoryUnitOfWork

MALL = "demo"
NOW = datetime(2026, 11, 22, 2, 0, tzinfo=UTC)  # 10:00 in the mall: no quiet hours
RENDERER = TemplateRenderer()  # the built-in templates, compiled once for every test


def context(now: datetime = NOW) -> Context:
    return Context(
        mall_id=MALL,
        clock=MovableClock(now),
        zone=ZoneInfo("Asia/Shanghai"),
        renderer=RENDERER,
        mall_names={"zh-CN": "银河广场", "en": "Galaxy Plaza"},
        mail_domain="galaxy.example",
    )


class FakeComplaints:
    def __init__(self) -> None:
        self.rows: dict[str, ComplaintFacts] = {}
        self.erased: set[str] = set()

    def save(self, facts: ComplaintFacts, as_of: datetime) -> None:
        if facts.id not in self.erased:
            self.rows[facts.id] = facts

    def get(self, complaint_id: str) -> ComplaintFacts | None:
        return self.rows.get(complaint_id)

    def erase(self, complaint_ids: list[str], now: datetime) -> list[str]:
        found = [complaint_id for complaint_id in complaint_ids if complaint_id in self.rows]
        for complaint_id in found:
            self.rows[complaint_id] = replace(self.rows[complaint_id], customer=Contact())
            self.erased.add(complaint_id)
        return found


class FakeRequests:
    def __init__(self, complaints: FakeComplaints) -> None:
        self.complaints = complaints  # read with a request kept, as the real statement does
        self.rows: dict[str, Request] = {}
        self.states: dict[str, str] = {}

    def keep(self, request: Request, at: datetime) -> tuple[bool, ComplaintFacts | None]:
        complaint = self.complaints.get(request.complaint_id)
        if request.id in self.rows:
            return False, complaint
        self.rows[request.id] = request
        self.states[request.id] = "waiting" if complaint is None else "planned"
        return True, complaint

    def get(self, request_id: str) -> Request | None:
        return self.rows.get(request_id)

    def lock_for(self, complaint_id: str) -> None:
        """One process, one transaction at a time: nothing to wait for."""

    def waiting_for(self, complaint_id: str) -> list[Request]:
        return [
            r for r in self.rows.values() if r.complaint_id == complaint_id and self.states[r.id] == "waiting"
        ]

    def mark(self, request_id: str, state: str, at: datetime) -> None:
        self.states[request_id] = state

    def of_complaint(self, complaint_id: str) -> list[dict[str, Any]]:
        return [
            {"id": r.id, "recipient": r.to, "state": self.states[r.id], "kind": r.kind}
            for r in self.rows.values()
            if r.complaint_id == complaint_id
        ]

    def erase(self, complaint_ids: list[str], known: dict[str, list[str]]) -> list[str]:
        return sorted({r.complaint_id for r in self.rows.values() if r.complaint_id in complaint_ids})


class FakeDeliveries:
    def __init__(self) -> None:
        self.rows: dict[str, Delivery] = {}
        self.queued = False

    def add(self, delivery: Delivery) -> bool:
        key = (delivery.request_id, delivery.channel, delivery.address)
        if any((d.request_id, d.channel, d.address) == key for d in self.rows.values()):
            return False
        self.rows[delivery.id] = delivery
        self.queued |= delivery.state == "pending"
        return True

    def of_request(self, request_id: str) -> list[Delivery]:
        return [d for d in self.rows.values() if d.request_id == request_id]

    def states_of_request(self, request_id: str) -> list[str]:
        return [d.state for d in self.of_request(request_id)]

    def get(self, delivery_id: str) -> Delivery | None:
        return self.rows.get(delivery_id)

    def retry(self, mall_id: str, delivery_id: str, at: datetime) -> dict[str, Any] | None:
        found = self.rows.get(delivery_id)
        if found is None or found.mall_id != mall_id or found.state != "failed" or found.channel == "none":
            return None
        self.rows[delivery_id] = replace(found, state="pending", attempts=0, next_attempt_at=at)
        self.queued = True
        return asdict(self.rows[delivery_id])


class FakeStaff:
    def __init__(self, *members: StaffMember) -> None:
        self.members = list(members)

    def holders(self, mall_id: str, role: str) -> list[StaffMember]:
        return [member for member in self.members if role in member.roles]


class FakeErasure:
    """Erases what FakeDeliveries and FakeInbox hold: the customer's address and the messages' text."""

    def __init__(self, complaints: FakeComplaints, deliveries: FakeDeliveries, inbox: FakeInbox) -> None:
        self.complaints, self.deliveries, self.inbox = complaints, deliveries, inbox

    def known_values(self, complaint_ids: list[str]) -> dict[str, list[str]]:
        found = {i: self.complaints.rows[i].customer for i in complaint_ids if i in self.complaints.rows}
        return {i: [v for v in (c.name, c.phone, c.email, c.address) if v] for i, c in found.items()}

    def erase_deliveries(self, complaint_ids: list[str], known: dict[str, list[str]]) -> list[str]:
        held = [d for d in self.deliveries.rows.values() if d.complaint_id in complaint_ids]
        for d in held:
            address = f"{ERASED} {d.id[:8]}" if d.audience == "customer" else d.address
            self.deliveries.rows[d.id] = replace(
                d, address=address, subject=None, body_text=None, sms_text=None
            )
        return sorted({d.complaint_id for d in held})

    def erase_inbox(self, complaint_ids: list[str], known: dict[str, list[str]]) -> None:
        for item in self.inbox.items.values():
            if item["complaint_id"] in complaint_ids:
                item["body"] = scrub(item["body"], *known.get(item["complaint_id"], []))


class FakeInbox:
    """The staff's notifications by id, each a row as notify.inbox_items holds it."""

    def __init__(self) -> None:
        self.items: dict[str, dict[str, Any]] = {}

    def mark_read(self, mall_id: str, username: str, item_id: str, at: datetime) -> dict[str, Any] | None:
        item = self.items.get(item_id)
        if item is None or (item["mall_id"], item["username"]) != (mall_id, username):
            return None
        item["read_at"] = item["read_at"] or at
        return item


class FakeUnitOfWork(InMemoryUnitOfWork):
    """The service\'s repositories in memory (tests/unit/fakes/transaction.py keeps the
    transaction and its events)."""

    def __init__(self, *staff: StaffMember) -> None:
        super().__init__()
        self.complaints = FakeComplaints()
        self.requests = FakeRequests(self.complaints)
        self.deliveries = FakeDeliveries()
        self.staff = FakeStaff(*staff)
        self.inbox = FakeInbox()
        self.erasure = FakeErasure(self.complaints, self.deliveries, self.inbox)
