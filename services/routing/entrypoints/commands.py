"""Commands over AMQP: a department's own system completes a task (`task.complete`) or hands a
case a message (`case.message`) exactly as the HTTP calls do.

A command is an envelope (type `task.complete`, payload `{task_id, data}`) published to the
`mall.commands` exchange with the sender's bearer token in the `authorization` header. It is
checked exactly like the HTTP request (token, role, scope, form) and applied once (inbox). The
answer goes to the message's `reply_to` queue; a rejected command without one is dead-lettered
with the reason.
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from typing import Any

import psycopg
from kombu import Message
from psycopg_pool import PoolTimeout

from services.common.bus.consumer import EventConsumer
from services.common.bus.envelope import Envelope
from services.common.errors import Forbidden, InvalidInput, NotFound, ServiceError, Unavailable
from services.common.identity.model import Identity
from services.common.identity.tokens import TokenIssuer
from services.routing.domain.commands import CompleteTask, DeliverMessage
from services.routing.service_layer import handlers
from services.routing.service_layer.context import Context
from services.routing.service_layer.session import Session

log = logging.getLogger(__name__)


class TaskCommandConsumer(EventConsumer):
    """Consumes task commands; business refusals are answered, never retried."""

    def __init__(self, *args, tokens: TokenIssuer, context: Context, outbox, **kwargs):
        super().__init__(
            *args, handlers={"task.complete": self._complete, "case.message": self._message}, **kwargs
        )
        self.tokens = tokens
        self.context = context
        self.outbox = outbox

    def _handle(self, envelope: Envelope, message: Message) -> None:
        answer: dict[str, Any] = {}
        if envelope.type not in self.handlers:
            self._dead_letter(message, f"unknown command {envelope.type!r}", "UnknownCommand", envelope.type)
            return
        try:
            identity = self._identity(message)
            handler = self.handlers[envelope.type]
            applied = self.apply(envelope, lambda conn, env: answer.update(handler(conn, env, identity)))
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
        if identity.mall_id != self.context.mall_id:
            raise Forbidden("token is for another mall")
        return identity

    def _complete(self, conn, envelope: Envelope, identity: Identity | None = None) -> dict[str, Any]:
        task_id, data = envelope.payload.get("task_id"), envelope.payload.get("data", {})
        if not isinstance(task_id, str) or not isinstance(data, dict):
            raise InvalidInput("a task.complete command needs task_id and data", {"task_id": ["required"]})
        session = Session(conn, self.outbox)
        task = session.tasks.get(self.context.mall_id, task_id)
        if task is None or not identity.can_see(task.floor, task.department):
            raise NotFound(f"no task {task_id}")
        command = CompleteTask(task_id, data, identity.subject, frozenset(identity.roles))
        completion = handlers.complete_task(command, session, self.context)
        if completion.incident:
            return {"status": "rejected", "error": completion.incident}
        return {"status": "completed", "task": asdict(completion.task)}

    def _message(self, conn, envelope: Envelope, identity: Identity) -> dict[str, Any]:
        payload = envelope.payload
        if not envelope.complaint_id or not isinstance(payload.get("name"), str):
            raise InvalidInput("a case.message command needs complaint_id and name", {"name": ["required"]})
        session = Session(conn, self.outbox)
        case = session.cases.get(self.context.mall_id, envelope.complaint_id)
        if case is None or not identity.can_see(case.floor, case.department):
            raise NotFound(f"no case {envelope.complaint_id}")
        command = DeliverMessage(
            case.id, payload["name"], payload.get("data") or {}, payload.get("idempotency_key") or envelope.id,
            identity.subject, int(payload.get("ttl_seconds") or 7 * 24 * 3600),
        )  # fmt: skip
        return {"status": handlers.deliver_message(command, session, self.context)}

    def _answer(self, message: Message, envelope: Envelope, answer: dict[str, Any]) -> None:
        reply_to = (message.properties or {}).get("reply_to")
        body = {"command_id": envelope.id, **answer}
        if reply_to:
            if answer.get("status") == "rejected":
                self._count(envelope.type, "rejected")
            self.producer().publish(
                body, exchange="", routing_key=reply_to, serializer="json",
                correlation_id=envelope.id, delivery_mode=2,
            )  # fmt: skip
        elif answer.get("status") == "rejected":
            self._dead_letter(
                message, f"command rejected: {answer['error']}", "CommandRejected", envelope.type
            )
            return
        message.ack()
