"""Hands each command to the one handler registered for it, with a fresh unit of work."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from services.intake.service_layer.handlers import HANDLERS, Context
from services.intake.service_layer.unit_of_work import UnitOfWork


class MessageBus:
    def __init__(self, uow_factory: Callable[[], UnitOfWork], context: Context):
        self.uow_factory = uow_factory
        self.context = context

    def handle(self, command: Any) -> Any:
        handler = HANDLERS[type(command)]
        return handler(command, self.uow_factory(), self.context)
