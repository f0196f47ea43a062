"""Reporting's unit of work in memory: the stored events, the case facts, CAPA records and
retention's records as dicts and lists.

Each fake keeps only what a handler's test looks at; the SQL behind the real ones (the statement that
stores an event and reads its case's history, the advisory locks, the erasure of personal data
inside stored events) is tested against PostgreSQL in tests/integration/reporting.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from services.common.bus.envelope import Envelope
from services.common.clock import MovableClock
from services.common.settings import Policy
from services.reporting.domain.capa import EDITABLE, CapaStatus, Occurrence
from services.reporting.domain.model import CaseFacts, Event
from services.reporting.service_layer.context import Context
from tests.unit.fakes.transaction import InMemoryUnitOfWork

MALL = "demo"


def context(now: datetime = datetime(2026, 12, 3, 2, 0, tzinfo=UTC), policy: Policy | None = None) -> Context:
    return Context(
        mall_id=MALL, zone=ZoneInfo("Asia/Shanghai"), policy=policy or Policy(), clock=MovableClock(now)
    )


def as_event(envelope: Envelope) -> Event:
    return Event(
        id=envelope.id,
        type=envelope.type,
        occurred_at=envelope.occurred_at,
        complaint_id=envelope.complaint_id,
        payload=envelope.payload,
        actor_id=envelope.actor.id,
        actor_role=envelope.actor.role,
    )


class FakeCases:
    def __init__(self) -> None:
        self.rows: dict[str, CaseFacts] = {}
        self.erased: dict[str, datetime] = {}  # complaint id -> when its customer was forgotten
        self.saves: list[tuple[str, bool, bool]] = []  # (complaint id, escalations, callbacks) written
        self.requests: list[tuple[list[str], datetime]] = []  # retention's requests (FakeRetention adds them)

    def save(self, facts: CaseFacts, escalations: bool = True, callbacks: bool = True) -> None:
        self.rows[facts.complaint_id] = facts
        self.saves.append((facts.complaint_id, escalations, callbacks))

    def save_many(self, saves: list[tuple[CaseFacts, bool, bool]]) -> None:
        for facts, escalations, callbacks in saves:
            self.save(facts, escalations, callbacks)

    def occurrences(self, mall_id: str, problem_key: str, start: datetime, end: datetime | None) -> list:
        found = [
            Occurrence(facts.complaint_id, facts.number, facts.received_at)
            for facts in self.rows.values()
            if facts.mall_id == mall_id
            and facts.problem_key == problem_key
            and facts.received_at is not None
            and start <= facts.received_at
            and (end is None or facts.received_at <= end)
        ]
        return sorted(found, key=lambda item: item.received_at)

    def closed_before(
        self, mall_id: str, cutoff: datetime, limit: int, after: tuple[datetime, str] | None = None
    ) -> list[dict[str, Any]]:
        due = sorted(
            (facts.closed_at, facts.complaint_id, facts.number)
            for facts in self.rows.values()
            if facts.mall_id == mall_id
            and facts.complaint_id not in self.erased
            and facts.closed_at is not None
            and facts.closed_at < cutoff
        )
        due = [item for item in due if after is None or item[:2] > after]
        return [{"closed_at": at, "complaint_id": cid, "number": number} for at, cid, number in due[:limit]]

    def erase(self, complaint_ids: list[str], at: datetime) -> None:
        for complaint_id in complaint_ids:
            self.erased.setdefault(complaint_id, at)

    def erase_asked(self, mall_id: str, complaint_ids: list[str], at: datetime) -> None:
        self.erase(complaint_ids, at)

    def clear_derived(self) -> None:
        self.rows.clear()
        self.erased.clear()

    def mark_erased_again(self) -> None:
        for complaint_ids, at in self.requests:
            self.erase([complaint_id for complaint_id in complaint_ids if complaint_id in self.rows], at)


class FakeEvents:
    def __init__(self, cases: FakeCases) -> None:
        self.facts = cases  # whether a case was erased
        self.rows: dict[str, Event] = {}
        self.without_personal_data: set[str] = set()  # ids of events kept with their personal data erased
        self.locked: list[str] = []  # the cases whose lock was taken, in order

    def lock_cases(self, complaint_ids: list[str]) -> set[str]:
        self.locked.extend(complaint_ids)
        return {complaint_id for complaint_id in complaint_ids if complaint_id in self.facts.erased}

    def add_many(self, events: list[tuple[Envelope, bool]]) -> set[str]:
        return {envelope.id for envelope, erase in events if self.add(envelope, erase)}

    def add(self, envelope: Envelope, erase: bool = False) -> bool:
        if envelope.id in self.rows:
            return False
        self.rows[envelope.id] = as_event(envelope)
        if erase or envelope.complaint_id in self.facts.erased:
            self.without_personal_data.add(envelope.id)
        return True

    def of_case(self, complaint_id: str) -> list[Event]:
        return [event for event in self.rows.values() if event.complaint_id == complaint_id]

    def of_cases(self, complaint_ids: list[str]) -> dict[str, list[Event]]:
        return {complaint_id: self.of_case(complaint_id) for complaint_id in complaint_ids}

    def cases(self, batch: int = 1000) -> Iterator[list[tuple[str, str]]]:
        ids = sorted({(event.complaint_id, MALL) for event in self.rows.values() if event.complaint_id})
        for start in range(0, len(ids), batch):
            yield ids[start : start + batch]

    def erase(self, complaint_ids: list[str]) -> int:
        erased = [event.id for event in self.rows.values() if event.complaint_id in complaint_ids]
        self.without_personal_data.update(erased)
        return len(erased)


class FakeCapa:
    def __init__(self) -> None:
        self.records: dict[str, dict[str, Any]] = {}
        self.locked: list[str] = []

    def lock_problem(self, mall_id: str, problem_key: str) -> None:
        self.locked.append(problem_key)

    def _of(self, mall_id: str, problem_key: str) -> list[dict[str, Any]]:
        return [
            r for r in self.records.values() if r["mall_id"] == mall_id and r["problem_key"] == problem_key
        ]

    def current(self, mall_id: str, problem_key: str) -> dict[str, Any] | None:
        return next((r for r in self._of(mall_id, problem_key) if r["status"] != CapaStatus.VERIFIED), None)

    def last_verified_until(self, mall_id: str, problem_key: str) -> datetime | None:
        verified = [
            r["last_received_at"] for r in self._of(mall_id, problem_key) if r["status"] == "verified"
        ]
        return max(verified, default=None)

    def open(self, mall_id, problem_key, place, run: list[Occurrence], at: datetime) -> dict[str, Any] | None:
        if self.current(mall_id, problem_key) is not None:
            return None
        record = {
            "id": str(uuid.uuid4()),
            "mall_id": mall_id,
            "problem_key": problem_key,
            **place,
            "complaint_ids": [item.complaint_id for item in run],
            "numbers": [item.number or "" for item in run],
            "first_received_at": run[0].received_at,
            "last_received_at": run[-1].received_at,
            "status": CapaStatus.OPEN.value,
            **dict.fromkeys(EDITABLE),
            "version": 1,
            "opened_at": at,
        }
        self.records[record["id"]] = record
        return record

    def add_occurrence(self, capa_id: str, occurrence: Occurrence) -> None:
        record = self.records[capa_id]
        if occurrence.complaint_id not in record["complaint_ids"]:
            record["complaint_ids"].append(occurrence.complaint_id)
            record["numbers"].append(occurrence.number or "")
            record["first_received_at"] = min(record["first_received_at"], occurrence.received_at)
            record["last_received_at"] = max(record["last_received_at"], occurrence.received_at)

    def get(self, mall_id: str, capa_id: str, for_update: bool = False) -> dict[str, Any] | None:
        record = self.records.get(capa_id)
        return record if record is not None and record["mall_id"] == mall_id else None

    def update(self, capa_id: str, changes: dict, status: str, by: str, at: datetime) -> dict[str, Any]:
        record = self.records[capa_id]
        record.update({name: changes[name] for name in EDITABLE if name in changes})
        record.update(status=status, updated_by=by, updated_at=at, version=record["version"] + 1)
        if status == CapaStatus.VERIFIED:
            record.update(verified_at=at, verified_by=by)
        return dict(record)


class FakeRetention:
    def __init__(self, cases: FakeCases) -> None:
        self.cases = cases
        self.job_running_elsewhere = False
        self.requests: dict[str, dict[str, Any]] = {}
        self.answers: set[tuple[str, str]] = set()  # (service, complaint id)

    def take_job_lock(self) -> bool:
        return not self.job_running_elsewhere

    def add_request(self, request_id, mall_id, closed_before: date, complaint_ids, at) -> None:
        self._keep(request_id, {"closed_before": closed_before, "complaint_ids": complaint_ids, "at": at})

    def keep_request(self, request_id, mall_id, complaint_ids, at, reason) -> None:
        self._keep(request_id, {"complaint_ids": complaint_ids, "at": at, "reason": reason})

    def _keep(self, request_id: str, request: dict[str, Any]) -> None:
        self.requests.setdefault(request_id, request)
        self.cases.requests.append((list(request["complaint_ids"]), request["at"]))

    def record_answers(self, service: str, complaint_ids: list[str], at: datetime) -> None:
        self.answers.update((service, complaint_id) for complaint_id in complaint_ids)


class FakeUnitOfWork(InMemoryUnitOfWork):
    """The service\'s repositories in memory (tests/unit/fakes/transaction.py keeps the
    transaction and its events)."""

    def __init__(self) -> None:
        super().__init__()
        self.cases = FakeCases()
        self.events = FakeEvents(self.cases)
        self.capa = FakeCapa()
        self.retention = FakeRetention(self.cases)
