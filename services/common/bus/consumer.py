"""Idempotent event consumers: inbox in the same transaction as the effect, ack after commit.

A handler that raises is retried a bounded number of times through the retry queue (with a
growing delay); then the message goes to the dead-letter queue with its error in the headers.
A malformed message goes there at once. A database that does not answer is not the message's
fault: the message is put back and the consumer waits, without counting a retry.
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any

import psycopg
from kombu import Connection, Message, Producer, Queue
from kombu.mixins import ConsumerMixin
from marshmallow import ValidationError
from psycopg import sql
from psycopg_pool import ConnectionPool, PoolTimeout

from services.common.bus.connection import is_memory
from services.common.bus.envelope import Envelope, load_envelope
from services.common.bus.outbox import OutboxWriter
from services.common.bus.topology import DEAD_LETTER_EXCHANGE, ConsumerQueues
from services.common.errors import Unavailable
from services.common.logging import log_context
from services.common.observability.metrics import EVENT_HANDLE_SECONDS, EVENT_LAG_SECONDS, EVENTS_CONSUMED

log = logging.getLogger(__name__)

# A handler returns nothing; one that keeps its own inbox (`own_inbox`) returns whether the message was new.
Handler = Callable[[psycopg.Connection, Envelope], bool | None]

RETRY_HEADER = "x-retries"


class EventConsumer(ConsumerMixin):
    """Consumes one service queue and calls the handler registered for each event type."""

    def __init__(
        self,
        connection: Connection,
        pool: ConnectionPool,
        schema: str,
        queues: ConsumerQueues,
        handlers: dict[str, Handler],
        max_retries: int = 5,
        retry_base_delay: float = 1.0,
        prefetch_count: int = 20,
        also_declare: list[Queue] | None = None,
        fallback: Handler | None = None,
        own_inbox: bool = False,
        outbox: OutboxWriter | None = None,
    ):
        self.connection = connection
        self.outbox = outbox  # the handlers' writer: told after each commit, so its relay wakes
        self.pool = pool
        self.queues = queues
        self.handlers = handlers
        self.max_retries = max_retries
        self.retry_base_delay = retry_base_delay
        self.prefetch_count = prefetch_count
        self.also_declare = also_declare or []  # queues this service feeds (declared so nothing is lost)
        self.fallback = fallback  # for every type without a handler of its own (a read model takes all)
        # The handlers tell a redelivery themselves (a read model keeping every event by its id): no
        # inbox row, one statement fewer per message.
        self.own_inbox = own_inbox
        self.infrastructure_pause = threading.Event()
        self.ready = threading.Event()  # set while consuming; readiness probes and tests use it
        self._publish_connection: Connection | None = None
        self._remember = (
            sql.SQL(
                "INSERT INTO {}.inbox (consumer, message_id) VALUES (%s, %s) ON CONFLICT DO NOTHING RETURNING 1"
            )
            .format(sql.Identifier(schema))
            .as_string()
        )

    @property
    def name(self) -> str:
        return self.queues.main.name

    def get_consumers(self, Consumer, channel):
        for queue in [*self.queues.all(), *self.also_declare]:
            queue.bind(channel).declare()
        return [
            Consumer(
                queues=[self.queues.main],
                callbacks=[self.on_message],
                accept=["json"],
                prefetch_count=self.prefetch_count,
            )
        ]

    def producer(self) -> Producer:
        """A producer on a connection of its own: waiting for a publish confirm on the consuming
        channel would let the next delivery run inside this one's callback, before it is acked."""
        if self._publish_connection is None:
            self._publish_connection = self.connection.clone()
        self._publish_connection.ensure_connection(max_retries=3)
        return Producer(self._publish_connection.default_channel)

    def on_consume_end(self, connection, channel) -> None:
        if self._publish_connection is not None:
            self._publish_connection.release()
            self._publish_connection = None

    def on_consume_ready(self, connection, channel, consumers, **kwargs) -> None:
        self.ready.set()

    def on_connection_error(self, exc, interval) -> None:
        self.ready.clear()
        super().on_connection_error(exc, interval)

    def on_message(self, body: Any, message: Message) -> None:
        try:
            envelope = load_envelope(body)
        except ValidationError as exc:
            self._dead_letter(message, f"malformed envelope: {exc.messages}", "ValidationError")
            return
        EVENT_LAG_SECONDS.labels(self.name).observe(max(time.time() - envelope.occurred_at.timestamp(), 0))
        with log_context(envelope.correlation_id, envelope.complaint_id):
            self._handle(envelope, message)

    def _handle(self, envelope: Envelope, message: Message) -> None:
        handler = self.handlers.get(envelope.type, self.fallback)
        if handler is None:
            self._count(envelope.type, "ignored")
            message.ack()  # bound to more than this consumer handles: nothing to do
            return
        try:
            self.apply(envelope, handler)
        except (Unavailable, PoolTimeout, psycopg.OperationalError) as exc:
            self._put_back(message, envelope.type, exc)
        except Exception as exc:  # the handler's own failure: count it
            self._retry_or_dead_letter(message, exc, envelope.type)
        else:
            message.ack()

    def _put_back(self, message: Message, event_type: str, exc: Exception) -> None:
        """The database does not answer: not the message's fault, so no retry is counted."""
        log.warning("database unavailable, message put back: %s", exc)
        self._count(event_type, "requeued")
        message.requeue()
        self.infrastructure_pause.wait(1.0)

    def apply(self, envelope: Envelope, handler: Handler) -> bool:
        """Run the handler once per message id; return False when it was already applied."""
        started = time.perf_counter()
        with self.pool.connection() as conn, conn.transaction():
            if self.own_inbox:
                first_time = bool(handler(conn, envelope))
            else:
                first_time = conn.execute(self._remember, (self.name, envelope.id)).fetchone() is not None
                if first_time:
                    handler(conn, envelope)
        if self.outbox is not None:
            self.outbox.committed()
        EVENT_HANDLE_SECONDS.labels(self.name).observe(time.perf_counter() - started)
        if not first_time:
            log.info("duplicate message ignored", extra={"message_id": envelope.id})
        self._count(envelope.type, "handled" if first_time else "duplicate")
        return first_time

    def _count(self, event_type: str, outcome: str) -> None:
        EVENTS_CONSUMED.labels(self.name, event_type, outcome).inc()

    def on_decode_error(self, message: Message, exc: Exception) -> None:
        reason = str(exc)
        if isinstance(exc.__context__, RecursionError):  # kombu's DecodeError around the parser's own
            reason = "JSON nested too deep for the parser (about a thousand levels or more)"
        self._dead_letter(message, f"cannot decode message: {reason}", type(exc).__name__)

    def _retry_or_dead_letter(self, message: Message, exc: Exception, event_type: str | None = None) -> None:
        retries = int((message.headers or {}).get(RETRY_HEADER, 0))
        if retries >= self.max_retries:
            log.error("message dead-lettered after %s retries: %s", retries, exc)
            self._dead_letter(
                message, "".join(traceback.format_exception(exc))[-4000:], type(exc).__name__, event_type
            )
            return
        log.warning("handler failed, retry %s of %s: %s", retries + 1, self.max_retries, exc)
        headers = {**(message.headers or {}), RETRY_HEADER: retries + 1, "x-last-error": str(exc)[:1000]}
        self._republish_for_retry(message, headers, retries)
        self._count(event_type or _message_type(message), "retried")
        message.ack()

    def _republish_for_retry(self, message: Message, headers: dict, retries: int) -> None:
        producer = self.producer()
        options = _copy_properties(message)
        if is_memory(self.connection.as_uri()):
            # The in-memory transport has no message expiry: hand it straight back.
            producer.publish(
                message.body, exchange="", routing_key=self.queues.main.name, headers=headers, **options
            )
            return
        delay_ms = int(self.retry_base_delay * 1000 * 2**retries)
        producer.publish(
            message.body,
            exchange="",
            routing_key=self.queues.retry.name,
            headers=headers,
            expiration=delay_ms / 1000,
            **options,
        )

    def _dead_letter(
        self, message: Message, error: str, error_type: str, event_type: str | None = None
    ) -> None:
        headers = {
            **(message.headers or {}),
            "x-error": error,
            "x-error-type": error_type,
            "x-failed-queue": self.queues.main.name,
            "x-original-routing-key": message.delivery_info.get("routing_key"),
        }
        self.producer().publish(
            message.body,
            exchange=DEAD_LETTER_EXCHANGE,
            routing_key=self.queues.main.name,
            headers=headers,
            declare=[DEAD_LETTER_EXCHANGE],
            **_copy_properties(message),
        )
        self._count(event_type or _message_type(message), "dead_lettered")
        message.ack()


def _message_type(message: Message) -> str:
    """The event type a message says it carries (the relay sets it), for a label."""
    return (message.properties or {}).get("type") or message.delivery_info.get("routing_key") or "unknown"


def _copy_properties(message: Message) -> dict[str, Any]:
    properties = message.properties or {}
    return {
        "content_type": message.content_type,
        "content_encoding": message.content_encoding,
        "delivery_mode": 2,
        "message_id": properties.get("message_id"),
        "correlation_id": properties.get("correlation_id"),
        "type": properties.get("type"),
    }
