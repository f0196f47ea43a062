"""Routing's unit of work: one transaction holding its repositories and the outbox
(services/common/unit_of_work.py), and `deferred()`, which writes a step's events and timeline rows
together."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import psycopg

from services.common.bus.envelope import Envelope
from services.common.db import insert_together
from services.common.unit_of_work import PostgresUnitOfWork
from services.routing.adapters.cases import TIMELINE_INSERT, CaseRepository, before_step, saving
from services.routing.adapters.erasure import CaseErasure
from services.routing.adapters.messages import MessageRepository
from services.routing.adapters.processes import ProcessRepository
from services.routing.adapters.staff import StaffDirectory
from services.routing.adapters.tasks import TaskRepository
from services.routing.domain.model import Task

SCHEMA = "routing"


class UnitOfWork(PostgresUnitOfWork):
    """`with uow:` is one transaction; `publish` takes the routing key a task's event goes under."""

    processes: ProcessRepository
    cases: CaseRepository
    tasks: TaskRepository
    messages: MessageRepository
    staff: StaffDirectory
    erasure: CaseErasure

    _events: list[tuple[Envelope, str | None]] | None = None  # those of a `deferred()` block

    def open_repositories(self, conn: psycopg.Connection) -> None:
        self.processes = ProcessRepository(conn)
        self.cases = CaseRepository(conn)
        self.tasks = TaskRepository(conn)
        self.messages = MessageRepository(conn)
        self.staff = StaffDirectory(conn)
        self.erasure = CaseErasure(conn)

    def publish(self, envelope: Envelope, routing_key: str | None = None) -> None:
        if self._events is not None:
            self._events.append((envelope, routing_key))
            return
        self.outbox.add(self.conn, envelope, routing_key)
        self._published = True

    def before_step(self, case_id: str, now: datetime) -> tuple[list[dict[str, Any]], list[Task]]:
        """The case's waiting messages and open tasks, read together (one statement) before a step."""
        return before_step(self.conn, case_id, now)

    @contextlib.contextmanager
    def deferred(self) -> Iterator[None]:
        """Events published, timeline rows added, tasks' new holders and closes, and the case saved
        in the block are written at its end, all in one statement, each kind in the order it came
        (a step writes several; every statement is a round trip). The save keeps its revision
        check: a case changed meanwhile fails the block as a save alone would. On an exception
        nothing is written: the transaction is rolled back."""
        if self._events is not None:  # already inside one: the outer block writes
            yield
            return
        self._events, timeline, changes, saved = [], [], [], {}
        try:
            with self.cases.deferred(timeline, saved), self.tasks.deferred(collected=changes):
                yield
            events = self._events
        finally:
            self._events = None
        cases = list(saved.values())
        found = insert_together(
            self.conn,
            [(TIMELINE_INSERT, timeline), self.outbox.insert_of(events)],
            changes,
            checked=[saving(case) for case in cases],
        )
        if found != len(cases):
            changed = ", ".join(f"{case.id} (revision {case.revision})" for case in cases)
            raise RuntimeError(f"a case changed under this step: {changed}")
        for case in cases:
            case.revision += 1
        self._published = self._published or bool(events)
