"""The unit of work: one transaction holding the repositories and the outbox."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import UTC, date, datetime

import psycopg
from psycopg.pq import TransactionStatus
from psycopg_pool import ConnectionPool

from services.common.bus.envelope import Envelope
from services.common.bus.outbox import OutboxWriter
from services.common.db import translate_errors
from services.common.objects import ObjectStore
from services.intake.adapters.attachments import AttachmentRepository
from services.intake.adapters.links import LinkRepository
from services.intake.adapters.privacy import PrivacyRepository
from services.intake.adapters.reference_cache import ReferenceCache
from services.intake.adapters.repository import (
    ComplaintRepository,
    IdempotencyStore,
    ReferenceRepository,
)
from services.intake.domain.model import Complaint
from services.intake.service_layer.events import reference_changed


def announcement(reference: ReferenceRepository, mall_id: str) -> Envelope:
    """reference.changed with the mall's floors and departments as they now are."""
    return reference_changed(
        mall_id, reference.floors(mall_id), reference.departments(mall_id), datetime.now(UTC)
    )


class UnitOfWork:
    """`with uow:` opens a transaction; `commit()` keeps it, anything else rolls it back.

    After `autocommit()` each statement commits by itself instead, unless run in `transaction()`.
    """

    complaints: ComplaintRepository
    reference: ReferenceRepository
    idempotency: IdempotencyStore
    privacy: PrivacyRepository
    attachments: AttachmentRepository
    links: LinkRepository

    def __init__(
        self,
        pool: ConnectionPool,
        outbox: OutboxWriter,
        reference_cache: ReferenceCache | None,
        objects: ObjectStore,
    ):
        self.pool = pool
        self.outbox = outbox
        self.reference_cache = reference_cache
        self.objects = objects  # attachments' files, erased with the rows in the same unit of work
        self._connection_cm = None
        self.conn: psycopg.Connection | None = None

    def __enter__(self) -> UnitOfWork:
        with translate_errors():
            self._connection_cm = self.pool.connection()
            self.conn = self._connection_cm.__enter__()
        self.complaints = ComplaintRepository(self.conn)
        self.reference = ReferenceRepository(self.conn, self.reference_cache)
        self.idempotency = IdempotencyStore(self.conn)
        self.privacy = PrivacyRepository(self.conn, self.objects)
        self.attachments = AttachmentRepository(self.conn)
        self.links = LinkRepository(self.conn)
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            if self.conn is not None and not self.conn.closed:
                self.conn.rollback()  # no-op after commit(); undoes anything not committed
                self.conn.autocommit = False  # as the pool hands connections out (see autocommit)
        finally:
            cm, self._connection_cm, self.conn = self._connection_cm, None, None
            cm.__exit__(exc_type, exc, tb)

    def publish(self, envelope: Envelope) -> None:
        """Add an event to the outbox, in this transaction."""
        self.outbox.add(self.conn, envelope)

    def autocommit(self) -> None:
        """From here on each statement is a transaction of its own, except inside `transaction()`.

        Recording a complaint needs no transaction around its reads and its one write (see
        `take_number` and `record`); leaving out BEGIN and COMMIT saves two round trips and about a
        third of the database work per complaint. The connection goes back to the pool as it came.
        """
        self.conn.autocommit = True

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """Under `autocommit()`: a transaction for the block, committed when it ends normally."""
        with translate_errors(), self.conn.transaction():
            yield
        self.outbox.committed()

    def take_number(self, mall_id: str, day: date) -> int:
        """The day's next counter value, committed at once by the one statement that counts it.

        The counter row is then locked for one round trip instead of until the complaint's commit,
        which would make every complaint of the day wait for the one before it to reach the disk.
        The commit does not wait for the disk either (`synchronous_commit = off` for that statement):
        should the server crash before the WAL is flushed, the count is lost together with every
        complaint that used it, since a complaint's own commit flushes the WAL past the counter's
        record. A number is skipped only when its request fails after taking it.
        """
        if not self.conn.autocommit:  # inside a transaction its commit would not wait for the disk
            raise RuntimeError("take_number needs a unit of work in autocommit()")
        with translate_errors():
            return self.complaints.next_number(mall_id, day)

    def record(self, complaint: Complaint, event_id: str, routing_key: str, body: dict) -> None:
        """Insert the complaint and its already dumped event with one statement, committed by itself
        under `autocommit()` or with the enclosing `transaction()`."""
        with translate_errors():
            self.complaints.add(complaint, self.outbox, event_id, routing_key, body)
        if self.conn.info.transaction_status == TransactionStatus.IDLE:  # committed (autocommit)
            self.outbox.committed()

    def commit(self) -> None:
        for mall_id in self.reference.changed():  # the other services learn the new names with the change
            self.publish(announcement(self.reference, mall_id))
        with translate_errors():
            self.conn.commit()
        self.outbox.committed()
        self.reference.committed()
