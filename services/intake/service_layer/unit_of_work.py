"""Intake's unit of work: one transaction holding the repositories and the outbox
(services/common/unit_of_work.py), and the two ways recording a complaint saves time."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import psycopg
from psycopg.pq import TransactionStatus
from psycopg_pool import ConnectionPool

from services.common.bus.envelope import Envelope
from services.common.bus.outbox import OutboxWriter
from services.common.db import translate_errors
from services.common.objects import ObjectStore
from services.common.unit_of_work import PostgresUnitOfWork
from services.intake.adapters.attachments import AttachmentRepository
from services.intake.adapters.holders import CaseHolders
from services.intake.adapters.links import LinkRepository
from services.intake.adapters.privacy import PrivacyRepository
from services.intake.adapters.progress import CaseProgress
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


class UnitOfWork(PostgresUnitOfWork):
    """`with uow:` is one transaction; `with uow.each_statement_commits():` lets every statement
    commit by itself instead (recording a complaint, see `record_first`)."""

    complaints: ComplaintRepository
    reference: ReferenceRepository
    idempotency: IdempotencyStore
    privacy: PrivacyRepository
    attachments: AttachmentRepository
    links: LinkRepository
    holders: CaseHolders
    progress: CaseProgress

    def __init__(
        self,
        pool: ConnectionPool,
        outbox: OutboxWriter,
        reference_cache: ReferenceCache | None,
        objects: ObjectStore,
        conn: psycopg.Connection | None = None,
    ):
        super().__init__(pool, outbox, conn)
        self.reference_cache = reference_cache
        self.objects = objects  # attachments' files, erased with the rows in the same unit of work

    def open_repositories(self, conn: psycopg.Connection) -> None:
        self.complaints = ComplaintRepository(conn)
        self.reference = ReferenceRepository(conn, self.reference_cache)
        self.idempotency = IdempotencyStore(conn)
        self.privacy = PrivacyRepository(conn, self.objects)
        self.attachments = AttachmentRepository(conn)
        self.links = LinkRepository(conn)
        self.holders = CaseHolders(conn)
        self.progress = CaseProgress(conn)

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
            raise RuntimeError("take_number needs a unit of work in each_statement_commits()")
        with translate_errors():
            return self.complaints.next_number(mall_id, day)

    def record_first(
        self, complaint: Complaint, event: Envelope, idempotency_key: str | None, fingerprint: str | None
    ) -> dict[str, Any] | None:
        """Insert the complaint and its event with one statement; with a key, only if the key is new.

        Returns the earlier use of the key instead (its fingerprint and complaint) when another
        request recorded with it first: a concurrent first try with the same key waits on the key's
        unique index until the other one commits, so exactly one of them records a complaint.
        """
        if not idempotency_key:
            self._record(complaint, event)
            return None
        with translate_errors(), self.conn.transaction():
            earlier = self.idempotency.claim(
                complaint.mall_id, idempotency_key, fingerprint or "", complaint.id
            )
            if earlier is None:
                self._record(complaint, event)
        if earlier is None:
            self.outbox.committed()
        return earlier

    def _record(self, complaint: Complaint, event: Envelope) -> None:
        with translate_errors():
            self.complaints.add(complaint, self.outbox, event)
        if self.conn.info.transaction_status == TransactionStatus.IDLE:  # committed (autocommit)
            self.outbox.committed()

    def commit(self) -> None:
        for mall_id in self.reference.changed():  # the other services learn the new names with the change
            self.publish(announcement(self.reference, mall_id))
        super().commit()
        if not self.joined:
            self.reference.committed()
