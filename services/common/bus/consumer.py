"""Idempotent event consumers: inbox in the same transaction as the effect, ack after commit.

A handler that raises is retried a bounded number of times through the retry queue (with a
growing delay); then the message goes to the dead-letter queue with its error in the headers.
A malformed message goes there at once. A database that does not answer is not the message's
fault: the message is put back and the consumer waits, without counting a retry.

With a batch size above one, the deliveries already in hand (up to that many, never waiting for
more) are applied in one transaction, in the order they came, and acked after its commit: one
commit for many events. When any of them fails the batch is rolled back and its deliveries are
applied one by one as above, so a failing message is retried or dead-lettered alone.
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any

import psycopg
from kombu import Connection, Message, Producer, Queue
from kombu.mixins import ConsumerMixin
from marshmallow import ValidationError
from psycopg import sql
from psycopg.rows import tuple_row
from psycopg_pool import ConnectionPool, PoolTimeout

from services.common.bus.connection import is_memory
from services.common.bus.envelope import Envelope, load_envelope
from services.common.bus.outbox import OutboxWriter
from services.common.bus.topology import DEAD_LETTER_EXCHANGE, ConsumerQueues
from services.common.errors import Unavailable
from services.common.logging import log_context
from services.common.observability.metrics import EVENT_HANDLE_SECONDS, EVENT_LAG_SECONDS, EVENTS_CONSUMED
from services.common.polling import FLOWING_SECONDS

log = logging.getLogger(__name__)

# What a handler returns is not read: the inbox tells a redelivery.
Handler = Callable[[psycopg.Connection, Envelope], object]

RETRY_HEADER = "x-retries"

# What the database may answer instead of doing the work: not the message's fault.
UNAVAILABLE = (Unavailable, PoolTimeout, psycopg.OperationalError)


@dataclass(frozen=True)
class Delivery:
    """A message in hand, waiting for its batch."""

    envelope: Envelope
    handler: Handler
    message: Message


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
        batch_size: int = 1,
        linger_seconds: float = 0.0,
        also_declare: list[Queue] | None = None,
        fallback: Handler | None = None,
        outbox: OutboxWriter | None = None,
        transaction_scope: Callable[[psycopg.Connection], AbstractContextManager] | None = None,
    ):
        self.connection = connection
        self.outbox = outbox  # the handlers' writer: told after each commit, so its relay wakes
        self.pool = pool
        self.queues = queues
        self.handlers = handlers
        self.max_retries = max_retries
        self.retry_base_delay = retry_base_delay
        # Deliveries applied in one transaction at most; the broker must be allowed to send that many.
        self.batch_size = batch_size
        self.prefetch_count = max(prefetch_count, batch_size)
        self.linger_seconds = linger_seconds  # how long a batch waits for more deliveries to join it
        self._last_woken = float("-inf")  # when a delivery last woke it (time.monotonic)
        self._in_hand: list[Delivery] = []
        self._received = 0  # deliveries since the batch was begun, ignored and malformed ones too
        self._consuming: Connection | None = None
        self.also_declare = also_declare or []  # queues this service feeds (declared so nothing is lost)
        self.fallback = fallback  # for every type without a handler of its own (a read model takes all)
        # Around each transaction's handlers (the service's MessageBus.joined: one unit of work each).
        self.transaction_scope = transaction_scope or (lambda conn: nullcontext())
        self.infrastructure_pause = threading.Event()
        self.ready = threading.Event()  # set while consuming; readiness probes and tests use it
        self._publish_connection: Connection | None = None
        self._remember = (  # a batch's message ids in one statement; those already there are not returned
            sql.SQL(
                "INSERT INTO {}.inbox (consumer, message_id) SELECT %s, unnest(%s::text[])"
                " ON CONFLICT DO NOTHING RETURNING message_id"
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
        if self._publish_connection is None:  # idle between publishes: no heartbeats (see broker_connection)
            self._publish_connection = self.connection.clone(heartbeat=0)
        self._publish_connection.ensure_connection(max_retries=3)
        return Producer(self._publish_connection.default_channel)

    def on_consume_end(self, connection, channel) -> None:
        if self._publish_connection is not None:
            self._publish_connection.release()
            self._publish_connection = None

    def on_consume_ready(self, connection, channel, consumers, **kwargs) -> None:
        self._consuming = connection
        self._in_hand.clear()  # a lost connection's deliveries come again on this one
        self.ready.set()

    def on_connection_error(self, exc, interval) -> None:
        self.ready.clear()
        super().on_connection_error(exc, interval)

    def consume(self, *args, **kwargs) -> Iterator[None]:
        """kombu's loop (one delivery at a time when batches are off); with batches, each delivery
        that wakes it is joined by those the broker has already sent, and all are applied.

        Not ready from the moment it ends: kombu's run() catches a lost or refused connection
        (NOT_ALLOWED while a vhost's permissions change) and connects again without calling
        on_connection_error, so readiness would still say connected; on_consume_ready sets it again."""
        try:
            for _ in super().consume(*args, **kwargs):
                if self.batch_size > 1:
                    self._take_what_is_ready()
                    self._apply_in_hand()
                yield
        finally:
            self.ready.clear()

    def _take_what_is_ready(self) -> None:
        """Read the deliveries already sent, up to a batch; while events are flowing (the one before
        came less than a second ago), also those sent within `linger_seconds`. A delivery after a
        quiet second is applied at once: a quiet queue's single event waits for nothing."""
        now = time.monotonic()
        flowing = now - self._last_woken < FLOWING_SECONDS
        self._last_woken = now
        deadline = now + (self.linger_seconds if flowing else 0.0)
        try:
            while self._received < self.batch_size:
                self._consuming.drain_events(timeout=max(deadline - time.monotonic(), 0))
        except TimeoutError:  # socket.timeout: nothing more has come
            pass
        except BaseException:
            self._in_hand.clear()  # the connection's unacked deliveries come again after it
            raise
        finally:
            self._received = 0

    def on_message(self, body: Any, message: Message) -> None:
        self._received += 1
        try:
            envelope = load_envelope(body)
        except ValidationError as exc:
            self._dead_letter(message, f"malformed envelope: {exc.messages}", "ValidationError")
            return
        EVENT_LAG_SECONDS.labels(self.name).observe(max(time.time() - envelope.occurred_at.timestamp(), 0))
        if self.batch_size > 1:
            handler = self._handler_for(envelope, message)
            if handler is not None:
                self._in_hand.append(Delivery(envelope, handler, message))
            return
        with log_context(envelope.correlation_id, envelope.complaint_id):
            self._handle(envelope, message)

    def _handler_for(self, envelope: Envelope, message: Message) -> Handler | None:
        handler = self.handlers.get(envelope.type, self.fallback)
        if handler is None:
            self._count(envelope.type, "ignored")
            message.ack()  # bound to more than this consumer handles: nothing to do
        return handler

    def _handle(self, envelope: Envelope, message: Message) -> None:
        handler = self._handler_for(envelope, message)
        if handler is not None:
            self._apply_and_ack(envelope, handler, message)

    def _apply_and_ack(self, envelope: Envelope, handler: Handler, message: Message) -> bool:
        """Apply one delivery in its own transaction and settle it; False when the database did
        not answer (the message is then put back)."""
        try:
            with log_context(envelope.correlation_id, envelope.complaint_id):
                self.apply(envelope, handler)
        except UNAVAILABLE as exc:
            self._put_back(message, envelope.type, exc)
            return False
        except Exception as exc:  # the handler's own failure: count it
            self._retry_or_dead_letter(message, exc, envelope.type)
        else:
            message.ack()
        return True

    def _apply_in_hand(self) -> None:
        """Apply the deliveries in hand in one transaction and ack them after its commit; when one
        fails (or the database does), apply them one by one, each settled as a single delivery is."""
        batch, self._in_hand = self._in_hand, []
        if not batch:
            return
        if len(batch) > 1:
            try:
                self.apply_all([(delivery.envelope, delivery.handler) for delivery in batch])
            except Exception as exc:  # which delivery failed, and whether for good, is told alone
                log.info("batch of %s rolled back, applied one by one: %s", len(batch), exc)
            else:
                for delivery in batch:
                    delivery.message.ack()
                return
        for done, delivery in enumerate(batch, start=1):
            if not self._apply_and_ack(delivery.envelope, delivery.handler, delivery.message):
                self._put_back_unapplied(batch[done:])
                return

    def _put_back_unapplied(self, deliveries: list[Delivery]) -> None:
        """The database did not answer: the rest go back untried, after the one wait already made."""
        for delivery in deliveries:
            self._count(delivery.envelope.type, "requeued")
            delivery.message.requeue()

    def _put_back(self, message: Message, event_type: str, exc: Exception) -> None:
        """The database does not answer: not the message's fault, so no retry is counted."""
        log.warning("database unavailable, message put back: %s", exc)
        self._count(event_type, "requeued")
        message.requeue()
        self.infrastructure_pause.wait(1.0)

    def apply(self, envelope: Envelope, handler: Handler) -> bool:
        """Run the handler once per message id; return False when it was already applied."""
        return self.apply_all([(envelope, handler)])[0]

    def apply_all(self, deliveries: list[tuple[Envelope, Handler]]) -> list[bool]:
        """Apply each delivery in order, all in one transaction, each once per message id; whether
        each was new. Events the handlers publish go to the outbox in the same transaction."""
        started = time.perf_counter()
        with self.pool.connection() as conn, conn.transaction(), self.transaction_scope(conn):
            new = self._remembered(conn, [envelope.id for envelope, _ in deliveries])
            first_times = [self._apply_once(conn, envelope, handler, new) for envelope, handler in deliveries]
        if self.outbox is not None:
            self.outbox.committed()
        share = (time.perf_counter() - started) / len(deliveries)  # each its part of the transaction
        for (envelope, _), first_time in zip(deliveries, first_times, strict=True):
            EVENT_HANDLE_SECONDS.labels(self.name).observe(share)
            if not first_time:
                log.info("duplicate message ignored", extra={"message_id": envelope.id})
            self._count(envelope.type, "handled" if first_time else "duplicate")
        return first_times

    def _remembered(self, conn: psycopg.Connection, message_ids: list[str]) -> set[str]:
        """Add the batch's message ids to the inbox with one statement; the ids not there before.
        Sorted: two workers given the same messages in another order wait for each other's inbox
        rows in one order, never each for the other's."""
        with conn.cursor(row_factory=tuple_row) as cursor:
            return {row[0] for row in cursor.execute(self._remember, (self.name, sorted(message_ids)))}

    def _apply_once(
        self, conn: psycopg.Connection, envelope: Envelope, handler: Handler, new: set[str]
    ) -> bool:
        """Run the handler unless the inbox had the message (`new` holds the ids it did not have).
        A message twice in one batch runs once."""
        with log_context(envelope.correlation_id, envelope.complaint_id):
            if envelope.id not in new:
                return False
            new.discard(envelope.id)
            handler(conn, envelope)
            return True

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
