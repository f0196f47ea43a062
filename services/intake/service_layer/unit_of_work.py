"""The unit of work: one transaction holding the repositories and the outbox."""

from __future__ import annotations

from datetime import date

import psycopg
from psycopg_pool import ConnectionPool

from services.common.bus.envelope import Envelope
from services.common.bus.outbox import OutboxWriter
from services.common.db import translate_errors
from services.intake.adapters.repository import (
    ComplaintRepository,
    IdempotencyStore,
    ReferenceRepository,
)
from services.intake.domain.model import Complaint


class UnitOfWork:
    """`with uow:` opens a transaction; `commit()` keeps it, anything else rolls it back."""

    complaints: ComplaintRepository
    reference: ReferenceRepository
    idempotency: IdempotencyStore

    def __init__(self, pool: ConnectionPool, outbox: OutboxWriter):
        self.pool = pool
        self.outbox = outbox
        self._connection_cm = None
        self.conn: psycopg.Connection | None = None

    def __enter__(self) -> UnitOfWork:
        with translate_errors():
            self._connection_cm = self.pool.connection()
            self.conn = self._connection_cm.__enter__()
        self.complaints = ComplaintRepository(self.conn)
        self.reference = ReferenceRepository(self.conn)
        self.idempotency = IdempotencyStore(self.conn)
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            if self.conn is not None and not self.conn.closed:
                self.conn.rollback()  # no-op after commit(); undoes anything not committed
        finally:
            cm, self._connection_cm, self.conn = self._connection_cm, None, None
            cm.__exit__(exc_type, exc, tb)

    def publish(self, envelope: Envelope) -> None:
        """Add an event to the outbox, in this transaction."""
        self.outbox.add(self.conn, envelope)

    def take_number(self, mall_id: str, day: date) -> int:
        """The day's next counter value, committed at once with what the transaction holds so far.

        The counter row is then locked for one round trip instead of until the complaint's commit,
        which would make every complaint of the day wait for the one before it to reach the disk.
        The commit does not wait for the disk either (`synchronous_commit = off`): should the server
        crash before the WAL is flushed, the count is lost together with every complaint that used
        it, since a complaint's own commit flushes the WAL past the counter's record. A number is
        skipped only when its request fails after taking it.
        """
        with translate_errors(), self.conn.pipeline():
            self.conn.execute("SET LOCAL synchronous_commit TO off")
            counted = self.complaints.count_next_number(mall_id, day)
            self.conn.commit()
        return counted.fetchone()["last"]

    def commit_with(self, complaint: Complaint, event_id: str, routing_key: str, body: dict) -> None:
        """Insert the complaint, write its already dumped event and commit, in one round trip."""
        with translate_errors(), self.conn.pipeline():
            self.complaints.add(complaint)
            self.outbox.add_body(self.conn, event_id, routing_key, body)
            self.conn.commit()
        self.outbox.committed()

    def commit(self) -> None:
        with translate_errors():
            self.conn.commit()
        self.outbox.committed()
