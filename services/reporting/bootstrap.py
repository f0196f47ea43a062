"""Reporting's composition root: settings, pool, clock, tokens, the outbox, the message bus, the
consumer and the retention job."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from kombu import Connection
from psycopg_pool import ConnectionPool

from services.common.bus.connection import broker_connection
from services.common.bus.consumer import EventConsumer
from services.common.bus.outbox import OutboxRelay, OutboxWriter
from services.common.bus.topology import SUBSCRIPTIONS, consumer_queues
from services.common.clock import Clock
from services.common.db import pool_from_settings
from services.common.identity.revocation import verifying_tokens
from services.common.identity.tokens import TokenIssuer
from services.common.messagebus import MessageBus
from services.common.settings import Settings
from services.reporting.adapters.events import DecodedEvents
from services.reporting.service_layer.handlers import COMMAND_HANDLERS, EVENT_HANDLERS, EVENTS_QUEUE, Context
from services.reporting.service_layer.retention import RetentionScheduler
from services.reporting.service_layer.unit_of_work import UnitOfWork

SCHEMA = "reporting"


@dataclass
class Reporting:
    """Everything reporting's entrypoints need, built once per process."""

    settings: Settings
    pool: ConnectionPool
    clock: Clock
    tokens: TokenIssuer
    context: Context
    outbox: OutboxWriter
    bus: MessageBus
    decoded: DecodedEvents

    def uow(self) -> UnitOfWork:
        """A unit of work of its own: the routes' reads, and what the bus gives a command."""
        return UnitOfWork(self.pool, self.outbox, decoded=self.decoded)

    def relay(self) -> OutboxRelay:
        return OutboxRelay.for_writer(self.pool, self.outbox, self.settings)

    def consumer(self, connection: Connection | None = None) -> EventConsumer:
        """The consumer of every complaint, task, retention and reference event (EVENT_HANDLERS):
        each is kept, and a case's facts derived again when the event changes them."""
        return EventConsumer(
            connection or broker_connection(self.settings.amqp_url),
            self.pool,
            SCHEMA,
            consumer_queues(EVENTS_QUEUE, SUBSCRIPTIONS[EVENTS_QUEUE]),
            self.bus.consumer_handlers(),
            fallback=self.bus.consumer_fallback(),
            max_retries=self.settings.consumer_max_retries,
            batch_size=self.settings.consumer_batch_size,
            linger_seconds=self.settings.consumer_linger_ms / 1000,
            outbox=self.outbox,
            transaction_scope=self.bus.joined,
        )

    def retention_scheduler(self) -> RetentionScheduler:
        return RetentionScheduler(self.bus, self.settings.retention_interval.total_seconds())

    def collectors(self) -> list:
        """Scrape-time metrics: projection lag and retention from reporting's tables, its queues' depth."""
        from services.common.observability.collectors import QueueDepth
        from services.reporting.metrics import ReportingGauges

        queues = [EVENTS_QUEUE + suffix for suffix in ("", ".retry", ".dead")]
        return [
            ReportingGauges(self.pool, self.context),
            QueueDepth(self.settings.amqp_url, queues, "reporting"),
        ]


def bootstrap(
    settings: Settings, pool: ConnectionPool | None = None, clock: Clock | None = None
) -> Reporting:
    pool = pool_from_settings(settings, SCHEMA, pool)
    clock = clock or Clock()
    outbox = OutboxWriter(SCHEMA, pool.conninfo)
    context = Context(mall_id=settings.mall_id, zone=settings.zone, policy=settings.policy, clock=clock)
    decoded = DecodedEvents()
    return Reporting(
        settings=settings,
        pool=pool,
        clock=clock,
        tokens=verifying_tokens(settings, pool, clock),
        context=context,
        outbox=outbox,
        bus=MessageBus(
            partial(UnitOfWork, pool, outbox, decoded=decoded), context, COMMAND_HANDLERS, EVENT_HANDLERS
        ),
        decoded=decoded,
    )
