"""Hands each message to the one handler its service's tables register for it.

Every handler has one signature, `handler(message, uow, context)`: a command from an HTTP route, or
an event envelope from the service's consumer. Commands get a unit of work of their own; an event's
unit of work joins the consumer's transaction, which also remembers the message in the inbox and
commits both (services/common/bus/consumer.py).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import psycopg

from services.common.bus.envelope import Envelope
from services.common.unit_of_work import AbstractUnitOfWork

Handler = Callable[[Any, AbstractUnitOfWork, Any], Any]
UnitOfWorkFactory = Callable[..., AbstractUnitOfWork]  # (conn=None): a joined one when conn is given


class MessageBus:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        context: Any,
        command_handlers: Mapping[type, Handler],
        event_handlers: Mapping[str, Handler],
    ):
        self.uow_factory = uow_factory
        self.context = context
        self.command_handlers = command_handlers
        self.event_handlers = event_handlers
        self._joined = threading.local()  # the unit of work of the consumer transaction in hand

    def handle(self, command: Any, conn: psycopg.Connection | None = None) -> Any:
        """Run the command's handler in a fresh unit of work and return what it answers; with `conn`,
        in that consumer's transaction (a command that arrived over AMQP, remembered in its inbox)."""
        uow = self.uow_factory() if conn is None else self.uow_factory(conn)
        return self.command_handlers[type(command)](command, uow, self.context)

    def handle_event(self, conn: psycopg.Connection, envelope: Envelope) -> bool | None:
        """Run the event's handler in the consumer's transaction (the consumer's handler signature).
        What it returns is passed on: a consumer keeping its own inbox learns whether the event was new."""
        return self.handler_of(envelope.type)(envelope, self._uow_joining(conn), self.context)

    @contextmanager
    def joined(self, conn: psycopg.Connection) -> Iterator[None]:
        """While the consumer applies a batch in one transaction on `conn`: its events share one
        unit of work, so what a repository learned in that transaction (a lock it holds) it knows for
        the batch's later events, and what they keep for the end of the transaction (`at_end`) is
        done once, after the last of them. The consumer's `transaction_scope`."""
        self._joined.uow = uow = self.uow_factory(conn)
        uow.ends_with_batch = True
        try:
            yield
            uow.finish()  # what the batch's handlers kept for the end, before the consumer commits
        finally:
            self._joined.uow = None

    def _uow_joining(self, conn: psycopg.Connection) -> AbstractUnitOfWork:
        uow = getattr(self._joined, "uow", None)
        return uow if uow is not None and uow.conn is conn else self.uow_factory(conn)

    def handler_of(self, event_type: str) -> Handler:
        """The table's entry for the type, else the first topic pattern (`complaint.#`) it matches."""
        if event_type in self.event_handlers:
            return self.event_handlers[event_type]
        return next(
            handler
            for key, handler in self.event_handlers.items()
            if _is_pattern(key) and _matches(key, event_type)
        )

    def consumer_handlers(self) -> dict[str, Callable[[psycopg.Connection, Envelope], bool | None]]:
        """What the service's EventConsumer calls, one entry per event type in the table."""
        return {key: self.handle_event for key in self.event_handlers if not _is_pattern(key)}

    def consumer_fallback(self) -> Callable[[psycopg.Connection, Envelope], bool | None] | None:
        """What the consumer calls for a type the table does not name, when the table has patterns
        for them (a read model keeping every event, even of a type newer than itself)."""
        return self.handle_event if any(_is_pattern(key) for key in self.event_handlers) else None


def _is_pattern(key: str) -> bool:
    return "#" in key.split(".") or "*" in key.split(".")


def _matches(pattern: str, event_type: str) -> bool:
    """AMQP topic matching: `*` is one word, `#` zero or more."""
    return _match_words(pattern.split("."), event_type.split("."))


def _match_words(pattern: list[str], words: list[str]) -> bool:
    if not pattern:
        return not words
    head, rest = pattern[0], pattern[1:]
    if head == "#":
        return any(_match_words(rest, words[skip:]) for skip in range(len(words) + 1))
    return bool(words) and head in ("*", words[0]) and _match_words(rest, words[1:])
