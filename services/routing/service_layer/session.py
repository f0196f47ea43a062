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

    def publish(self, envelope: Envelope, routing_key: str | None = None) -> None:
        self.outbox.add(self.conn, envelope, routing_key)


@contextlib.contextmanager
def transaction(pool: ConnectionPool, outbox: OutboxWriter) -> Iterator[Session]:
    """A session committed when the block ends normally, rolled back when it raises."""
    with outbox_transaction(pool, outbox) as conn:
        yield Session(conn, outbox)
