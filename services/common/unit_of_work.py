"""The unit of work every service's handlers are given: one transaction, its repositories, its outbox.

`with uow:` commits when the block ends normally and rolls back when it raises; `uow.publish(event)`
adds the event to the outbox in that same transaction, so an event exists exactly when the change
it announces does. Repositories are attributes of the unit of work, set when it is entered.

`PostgresUnitOfWork` takes a connection from the pool, or joins one given to it: a consumer runs the
handler in the transaction that also remembers the message in its inbox, and commits both itself
(see services/common/bus/consumer.py). Tests give handlers an in-memory unit of work instead
(tests/unit/fakes/).
"""

from __future__ import annotations

import abc
import contextlib
from collections.abc import Callable, Hashable, Iterator
from typing import Self, TypeVar

import psycopg
from psycopg_pool import ConnectionPool

from services.common.bus.envelope import Envelope
from services.common.bus.outbox import OutboxWriter
from services.common.db import out_of_autocommit, translate_errors

Work = TypeVar("Work", bound=Callable[[], None])


class AbstractUnitOfWork(abc.ABC):
    """The port: a transaction that commits on success, rolls back on error, and publishes events."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.rollback()

    @abc.abstractmethod
    def commit(self) -> None:
        """Keep what was done so far (a block may commit early, e.g. before it raises a refusal)."""

    @abc.abstractmethod
    def rollback(self) -> None:
        """Undo what was not committed."""

    @abc.abstractmethod
    def publish(self, envelope: Envelope) -> None:
        """Add an event to the outbox, in this transaction."""

    def at_end(self, key: Hashable, work: Work) -> Work:
        """Do `work` once, just before the transaction commits, however many handlers ask for it
        under `key` (a consumer's batch: its events' rows of one table written by one statement);
        the work kept under `key`, the one asked for first."""
        # Kept in the instance's own dict: each service's unit of work has an __init__ of its own.
        return self.__dict__.setdefault("_at_end", {}).setdefault(key, work)

    def finish(self) -> None:
        """The work kept for the end of the transaction, in the order it was first asked for."""
        kept = self.__dict__.get("_at_end")
        while kept:
            kept.pop(next(iter(kept)))()

    def forget_the_end(self) -> None:
        """A rollback: the work kept for the end goes with it."""
        self.__dict__.pop("_at_end", None)


class PostgresUnitOfWork(AbstractUnitOfWork):
    """A transaction on a pooled psycopg connection, or a part of a consumer's transaction."""

    def __init__(
        self,
        pool: ConnectionPool,
        outbox: OutboxWriter,
        conn: psycopg.Connection | None = None,
        reads_only: bool = False,
    ):
        self.pool = pool
        self.outbox = outbox
        self.joined = conn is not None  # the consumer owns this transaction: it commits or rolls back
        # The consumer's unit of work for its whole batch (MessageBus.joined): the work kept for the
        # end is done once the batch's handlers have run, not as each handler's block ends.
        self.ends_with_batch = False
        # A route that only reads: each statement on its own, no BEGIN and COMMIT around them (under
        # READ COMMITTED every statement takes its own snapshot inside a transaction as well).
        self.reads_only = reads_only and not self.joined
        self.conn: psycopg.Connection | None = conn
        self._connection_cm = None
        self._published = False
        self._opened_on: psycopg.Connection | None = None  # a joined one's repositories, opened once

    def __enter__(self) -> Self:
        if not self.joined:
            with translate_errors():
                self._connection_cm = self.pool.connection()
                self.conn = self._connection_cm.__enter__()
            if self.reads_only:
                self.conn.autocommit = True
        if not self.joined or self._opened_on is not self.conn:  # joined: one transaction, one set
            self.open_repositories(self.conn)
            self._opened_on = self.conn
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            super().__exit__(exc_type, exc, tb)
        finally:
            if not self.joined:
                self.release(exc_type, exc, tb)

    def open_repositories(self, conn: psycopg.Connection) -> None:
        """Set the service's repositories as attributes, on this connection."""

    @contextlib.contextmanager
    def each_statement_commits(self) -> Iterator[Self]:
        """The unit of work with each statement a transaction of its own: no BEGIN and COMMIT
        around work that is one statement, or whose statements need none around them (two
        statements fewer). The connection goes back to the pool as it came."""
        if self.joined:
            raise RuntimeError("a consumer's transaction cannot commit each statement alone")
        with self:
            self.conn.autocommit = True
            yield self

    def release(self, exc_type, exc, tb) -> None:
        try:
            if self.conn is not None and not self.conn.closed and self.conn.autocommit:
                out_of_autocommit(self.conn)
            if self.conn is not None and not self.conn.closed:
                self.conn.rollback()  # nothing after a commit; whatever a failed commit left
        finally:
            cm, self._connection_cm, self.conn = self._connection_cm, None, None
            cm.__exit__(exc_type, exc, tb)

    def publish(self, envelope: Envelope) -> None:
        if self.reads_only:
            raise RuntimeError("a unit of work that only reads publishes nothing")
        self.outbox.add(self.conn, envelope)
        self._published = True

    def commit(self) -> None:
        if self.joined and self.ends_with_batch:
            return
        self.finish()
        if self.joined:
            return
        with translate_errors():
            self.conn.commit()
        self.committed()

    def rollback(self) -> None:
        self.forget_the_end()
        self._published = False
        if not self.joined and self.conn is not None and not self.conn.closed:
            self.conn.rollback()

    def committed(self) -> None:
        """After a commit: wake this process's relay when the transaction published something."""
        if self._published:
            self._published = False
            self.outbox.committed()
