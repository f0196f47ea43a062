"""Commands over AMQP: a department's own system completes a task (`task.complete`) or hands a
case a message (`case.message`) exactly as the HTTP calls do.

A command is an envelope (type `task.complete`, payload `{task_id, data}`) published to the
`mall.commands` exchange with the sender's bearer token in the `authorization` header. It is
checked exactly like the HTTP request and applied once (inbox): its payload first, by the HTTP
route's own schema within the same JSON limits, before any database work; then token, role, scope
and form. The answer goes to the message's `reply_to` queue; a rejected command without one is
dead-lettered with the reason, and a malformed one always, at once (no retry would mend it).
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from typing import Any

import psycopg
from kombu import Message
from marshmallow import ValidationError
from psycopg_pool import PoolTimeout

from services.common import jsonlimits
from services.common.bus.consumer import EventConsumer
from services.common.bus.envelope import Envelope
from services.common.bus.events import CASE_MESSAGE, TASK_COMPLETE
from services.common.errors import Forbidden, InvalidInput, NotFound, ServiceError, Unavailable
from services.common.identity.model import Identity
from services.common.identity.tokens import TokenIssuer
from services.common.messagebus import MessageBus
from services.routing.domain.commands import CompleteTask, DeliverMessage
from services.routing.entrypoints import schemas

log = logging.getLogger(__name__)

# Each command's payload is read by its HTTP twin's schema (schemas.py), so both refuse the same.
ARGUMENTS = {TASK_COMPLETE: schemas.CompleteCommand(), CASE_MESSAGE: schemas.MessageCommand()}


class TaskCommandConsumer(EventConsumer):
    """Consumes task commands; business refusals are answered, never retried. Each command goes to
    the service's message bus in the consumer's transaction, which also remembers it in the inbox."""

    def __init__(self, *args, tokens: TokenIssuer, bus: MessageBus, **kwargs):
        super().__init__(
            *args, handlers={TASK_COMPLETE: self._complete, CASE_MESSAGE: self._message}, **kwargs
        )
        self.tokens = tokens
        self.bus = bus
        self.mall_id = bus.context.mall_id

    def _handle(self, envelope: Envelope, message: Message) -> None:
        answer: dict[str, Any] = {}
        if envelope.type not in self.handlers:
            self._dead_letter(message, f"unknown command {envelope.type!r}", "UnknownCommand", envelope.type)
            return
        try:
            arguments = command_arguments(envelope)
        except InvalidInput as malformed:
            self._refuse_malformed(message, envelope, malformed)
            return
        try:
            identity = self._identity(message)
            handler = self.handlers[envelope.type]
            applied = self.apply(
                envelope, lambda conn, env: answer.update(handler(conn, env, arguments, identity))
            )
            if not applied:
                answer = {"status": "duplicate"}
        except (Unavailable, PoolTimeout, psycopg.OperationalError) as exc:
            self._put_back(message, envelope.type, exc)
            return
        except ServiceError as exc:
            answer = {"status": "rejected", "error": str(exc), "errors": getattr(exc, "fields", {})}
        except Exception as exc:  # not the sender's fault: retry, then dead-letter
            self._retry_or_dead_letter(message, exc, envelope.type)
            return
        self._answer(message, envelope, answer)

    def _identity(self, message: Message) -> Identity:
        header = str((message.headers or {}).get("authorization", ""))
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise Forbidden("a command needs an `authorization: Bearer <token>` header")
        identity = self.tokens.verify(token.strip())
        if identity.mall_id != self.mall_id:
            raise Forbidden("token is for another mall")
        return identity

    def _complete(self, conn, _envelope: Envelope, arguments: dict, identity: Identity) -> dict[str, Any]:
        task_id = str(arguments["task_id"])
        with self.bus.uow_factory(conn) as uow:
            task = uow.tasks.get(self.mall_id, task_id)
        if task is None or not identity.can_see(task.floor, task.department):
            raise NotFound(f"no task {task_id}")
        command = CompleteTask(task_id, arguments["data"], identity.subject, frozenset(identity.roles))
        completion = self.bus.handle(command, conn)
        if completion.incident:  # kept with the incident and applied by its retry: not to be sent again
            return {"status": "held", "error": completion.incident}
        return {"status": "completed", "task": asdict(completion.task)}

    def _message(self, conn, envelope: Envelope, arguments: dict, identity: Identity) -> dict[str, Any]:
        case_id = str(arguments["case_id"])
        with self.bus.uow_factory(conn) as uow:
            case = uow.cases.get(self.mall_id, case_id)
        if case is None or not identity.can_see(case.floor, case.department):
            raise NotFound(f"no case {case_id}")
        command = DeliverMessage(
            case.id,
            arguments["name"],
            arguments["data"],
            arguments["idempotency_key"] or envelope.id,
            identity.subject,
            arguments["ttl_seconds"],
            sorted(identity.roles)[0],
        )
        return {"status": self.bus.handle(command, conn)}

    def _refuse_malformed(self, message: Message, envelope: Envelope, malformed: InvalidInput) -> None:
        """No retry mends a malformed command: dead-lettered at once with the reason (and answered
        first, when the sender waits for an answer)."""
        self._reply(
            message, envelope, {"status": "rejected", "error": str(malformed), "errors": malformed.fields}
        )
        self._dead_letter(message, str(malformed), "MalformedCommand", envelope.type)

    def _answer(self, message: Message, envelope: Envelope, answer: dict[str, Any]) -> None:
        if not self._reply(message, envelope, answer) and answer.get("status") == "rejected":
            self._dead_letter(
                message, f"command rejected: {answer['error']}", "CommandRejected", envelope.type
            )
            return
        message.ack()

    def _reply(self, message: Message, envelope: Envelope, answer: dict[str, Any]) -> bool:
        """Send the answer to the message's `reply_to` queue; False when it names none."""
        reply_to = (message.properties or {}).get("reply_to")
        if not reply_to:
            return False
        if answer.get("status") == "rejected":
            self._count(envelope.type, "rejected")
        self.producer().publish(
            {"command_id": envelope.id, **answer},
            exchange="",
            routing_key=reply_to,
            serializer="json",
            correlation_id=envelope.id,
            delivery_mode=2,
        )
        return True


def command_arguments(envelope: Envelope) -> dict[str, Any]:
    """The command's payload checked as its HTTP twin checks a request, before any database work:
    the JSON limits, then the schema; the case a `case.message` names is the envelope's complaint_id,
    as it is the HTTP route's path. InvalidInput naming each bad field otherwise."""
    payload = envelope.payload
    if envelope.type == CASE_MESSAGE:
        payload = {**payload, "complaint_id": envelope.complaint_id}
    try:
        jsonlimits.check(payload)
        return ARGUMENTS[envelope.type].load(payload)
    except jsonlimits.TooComplex as exc:
        raise InvalidInput(f"malformed {envelope.type} command: {exc}", exc.fields) from exc
    except ValidationError as exc:
        fields = _dotted(exc.messages)
        reasons = "; ".join(f"{name}: {' '.join(map(str, found))}" for name, found in fields.items())
        raise InvalidInput(f"malformed {envelope.type} command: {reasons}", fields) from exc


def _dotted(messages: Any, prefix: str = "") -> dict[str, list]:
    """marshmallow's nested messages as {"data.x": [...]} (the fields of an InvalidInput)."""
    if not isinstance(messages, dict):
        return {prefix or "_schema": messages if isinstance(messages, list) else [messages]}
    found: dict[str, list] = {}
    for key, inner in messages.items():
        found.update(_dotted(inner, f"{prefix}.{key}" if prefix else str(key)))
    return found
