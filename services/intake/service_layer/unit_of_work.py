"""The unit of work: one transaction holding the repositories and the outbox."""

from __future__ import annotations

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

    def commit_with_event(self, event_id: str, routing_key: str, body: dict) -> None:
        """Write an already dumped event and commit, sent together in one round trip (pipeline)."""
        with translate_errors(), self.conn.pipeline():
            self.outbox.add_body(self.conn, event_id, routing_key, body)
            self.conn.commit()
        self.outbox.committed()

    def commit(self) -> None:
        with translate_errors():
            self.conn.commit()
        self.outbox.committed()
