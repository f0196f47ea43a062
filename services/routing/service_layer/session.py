"""One transaction with every routing repository and the outbox."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import psycopg
from psycopg_pool import ConnectionPool

from services.common.bus.envelope import Envelope
from services.common.bus.outbox import OutboxWriter, outbox_transaction
from services.routing.adapters.cases import CaseRepository
from services.routing.adapters.messages import MessageRepository
from services.routing.adapters.processes import ProcessRepository
from services.routing.adapters.staff import StaffDirectory
from services.routing.adapters.tasks import TaskRepository

SCHEMA = "routing"


class Session:
    """The repositories on one connection; whoever opened the transaction commits it."""

    def __init__(self, conn: psycopg.Connection, outbox: OutboxWriter):
        self.conn = conn
        self.outbox = outbox
        self.processes = ProcessRepository(conn)
        self.cases = CaseRepository(conn)
        self.tasks = TaskRepository(conn)
        self.messages = MessageRepository(conn)
        self.staff = StaffDirectory(conn)
        self._events: list[tuple[Envelope, str | None]] | None = None  # those of a `deferred()` block

    def publish(self, envelope: Envelope, routing_key: str | None = None) -> None:
        if self._events is not None:
            self._events.append((envelope, routing_key))
        else:
            self.outbox.add(self.conn, envelope, routing_key)

    @contextlib.contextmanager
    def deferred(self) -> Iterator[None]:
        """Events published and timeline rows added in the block are written at its end, each kind
        as one statement, in the order they came (a step writes several; every statement is a round
        trip). On an exception nothing is written: the transaction is rolled back."""
        if self._events is not None:  # already inside one: the outer block writes
            yield
            return
        self._events = []
        try:
            with self.cases.deferred():
                yield
            events = self._events
        finally:
            self._events = None
        self.outbox.add_many(self.conn, events)


@contextlib.contextmanager
def transaction(pool: ConnectionPool, outbox: OutboxWriter) -> Iterator[Session]:
    """A session committed when the block ends normally, rolled back when it raises."""
    with outbox_transaction(pool, outbox) as conn:
        yield Session(conn, outbox)
