"""What every service's in-memory unit of work does with its transaction and its events: commits
and rollbacks counted, events published in the block kept only when it commits."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Self

from services.common.bus.envelope import Envelope
from services.common.unit_of_work import AbstractUnitOfWork


class InMemoryUnitOfWork(AbstractUnitOfWork):
    """Repositories are set by each service's fake and survive the unit of work, so a test reads
    them after the handler returns; a rollback shows in `rollbacks` and in what `published` lacks."""

    def __init__(self) -> None:
        self.commits = 0
        self.rollbacks = 0
        self.pending: list[Envelope] = []
        self.published: list[Envelope] = []  # published and committed
        self.statement_commits = False  # inside `each_statement_commits`

    @contextlib.contextmanager
    def each_statement_commits(self) -> Iterator[Self]:
        with self:
            self.statement_commits = True
            try:
                yield self
            finally:
                self.statement_commits = False

    def commit(self) -> None:
        self.finish()
        self.commits += 1
        self.published.extend(self.pending)
        self.pending.clear()

    def rollback(self) -> None:
        self.forget_the_end()
        self.rollbacks += 1
        self.pending.clear()

    def publish(self, envelope: Envelope) -> None:
        self.pending.append(envelope)

    def of_type(self, event_type: str) -> list[Envelope]:
        return [event for event in self.published if event.type == event_type]
