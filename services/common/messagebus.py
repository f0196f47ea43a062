"""Hands each message to the one handler its service's tables register for it.

Every handler has one signature, `handler(message, uow, context)`: a command from an HTTP route, or
an event envelope from the service's consumer. Commands get a unit of work of their own; an event's
unit of work joins the consumer's transaction, which also remembers the message in the inbox and
commits both (services/common/bus/consumer.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
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

    def handle(self, command: Any) -> Any:
        """Run the command's handler in a fresh unit of work and return what it answers."""
        return self.command_handlers[type(command)](command, self.uow_factory(), self.context)

    def handle_event(self, conn: psycopg.Connection, envelope: Envelope) -> bool | None:
        """Run the event's handler in the consumer's transaction (the consumer's handler signature).
        What it returns is passed on: a consumer keeping its own inbox learns whether the event was new."""
        return self.event_handlers[envelope.type](envelope, self.uow_factory(conn), self.context)

    def consumer_handlers(self) -> dict[str, Callable[[psycopg.Connection, Envelope], bool | None]]:
        """What the service's EventConsumer calls, one entry per event type in the table."""
        return dict.fromkeys(self.event_handlers, self.handle_event)
