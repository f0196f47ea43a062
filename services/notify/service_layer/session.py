"""One transaction with every notify repository and the outbox."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import psycopg
from psycopg_pool import ConnectionPool

from services.common.bus.envelope import Envelope
from services.common.bus.outbox import OutboxWriter, outbox_transaction
from services.notify.adapters.complaints import ComplaintRepository, RequestRepository
from services.notify.adapters.deliveries import DeliveryRepository
from services.notify.adapters.staff import StaffDirectory

SCHEMA = "notify"


class Session:
    """The repositories on one connection; whoever opened the transaction commits it."""

    def __init__(self, conn: psycopg.Connection, outbox: OutboxWriter):
        self.conn = conn
        self.outbox = outbox
        self.complaints = ComplaintRepository(conn)
        self.requests = RequestRepository(conn)
        self.deliveries = DeliveryRepository(conn)
        self.staff = StaffDirectory()

    def publish(self, envelope: Envelope) -> None:
        self.outbox.add(self.conn, envelope)


@contextlib.contextmanager
def transaction(pool: ConnectionPool, outbox: OutboxWriter) -> Iterator[Session]:
    """A session committed when the block ends normally, rolled back when it raises."""
    with outbox_transaction(pool, outbox) as conn:
        yield Session(conn, outbox)
