"""Notify's unit of work: one transaction holding its repositories and the outbox
(services/common/unit_of_work.py), and what a commit that queued deliveries wakes."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from datetime import datetime

import psycopg
from psycopg_pool import ConnectionPool

from services.common.bus.envelope import Envelope
from services.common.bus.outbox import OutboxWriter
from services.common.unit_of_work import PostgresUnitOfWork
from services.notify.adapters.complaints import ComplaintRepository, RequestRepository
from services.notify.adapters.deliveries import Delivery, DeliveryRepository
from services.notify.adapters.erasure import Erasure
from services.notify.adapters.staff import StaffDirectory
from services.notify.adapters.views import DeliveryLog, Inbox


class UnitOfWork(PostgresUnitOfWork):
    """`with uow:` is one transaction; `with uow.pipelined():` inside it sends its statements without
    waiting for each answer (recording a send's outcome, see `pipelined`)."""

    complaints: ComplaintRepository
    requests: RequestRepository
    deliveries: DeliveryRepository
    staff: StaffDirectory
    erasure: Erasure
    log: DeliveryLog
    inbox: Inbox  # the staff's notifications (not the consumer's inbox of handled messages)

    def __init__(
        self,
        pool: ConnectionPool,
        outbox: OutboxWriter,
        wake: threading.Event | None = None,
        conn: psycopg.Connection | None = None,
    ):
        super().__init__(pool, outbox, conn)
        self.wake = wake  # this process's delivery workers, told when deliveries become due

    def open_repositories(self, conn: psycopg.Connection) -> None:
        self.complaints = ComplaintRepository(conn)
        self.requests = RequestRepository(conn)
        self.deliveries = DeliveryRepository(conn)
        self.staff = StaffDirectory(conn)
        self.erasure = Erasure(conn)
        self.log = DeliveryLog(conn)
        self.inbox = Inbox(conn)

    def record_sent(self, delivery: Delivery, at: datetime, answer: str, event: Envelope) -> bool:
        """A send that went out: its attempt, the delivery sent and `event`, by one statement (see
        `DeliveryRepository.record_sent`); False when its outcome was recorded before."""
        recorded, published = self.deliveries.record_sent(
            delivery, at, answer, self.outbox.event_params(event)
        )
        if published:
            self.outbox.added()
            self._published = True  # the commit, or the block's end in autocommit, wakes the relay
        return recorded

    @contextlib.contextmanager
    def pipelined(self) -> Iterator[UnitOfWork]:
        """The statements of the block sent in psycopg's pipeline mode: a worker records an outcome
        (the attempt, the new state, perhaps an event) in one round trip instead of one per statement."""
        with self.conn.pipeline():
            yield self

    def committed(self) -> None:
        """After a commit: wake the relay for its events, and the delivery workers when deliveries
        were planned or retried (a consumer's transaction is the consumer's to commit and wake for)."""
        super().committed()
        if self.deliveries.queued and self.wake is not None:
            self.deliveries.queued = False
            self.wake.set()
