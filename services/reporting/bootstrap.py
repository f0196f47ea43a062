"""Reporting's composition root: settings, pool, clock, tokens, the outbox, the consumer, the retention job."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

import psycopg
from kombu import Connection
from psycopg_pool import ConnectionPool

from services.common.bus.connection import broker_connection
from services.common.bus.consumer import EventConsumer
from services.common.bus.outbox import OutboxRelay, OutboxWriter, outbox_transaction
from services.common.bus.topology import SUBSCRIPTIONS, consumer_queues
from services.common.clock import Clock
from services.common.db import pool_from_settings
from services.common.identity.revocation import verifying_tokens
from services.common.identity.tokens import TokenIssuer
from services.common.settings import Settings
from services.reporting.service_layer.projection import Context, project
from services.reporting.service_layer.retention import RetentionScheduler

SCHEMA = "reporting"
EVENTS_QUEUE = "reporting.events"


@dataclass
class Reporting:
    """Everything reporting's entrypoints need, built once per process."""

    settings: Settings
    pool: ConnectionPool
    clock: Clock
    tokens: TokenIssuer
    context: Context

    @property
    def outbox(self) -> OutboxWriter:
        return self.context.outbox

    @contextlib.contextmanager
    def transaction(self) -> Iterator[psycopg.Connection]:
        """One transaction, committed when the block ends normally; the outbox relay is woken after."""
        with outbox_transaction(self.pool, self.outbox) as conn:
            yield conn

    def relay(self) -> OutboxRelay:
        return OutboxRelay.for_writer(self.pool, self.outbox, self.settings)

    def consumer(self, connection: Connection | None = None) -> EventConsumer:
        """The consumer of every complaint, task and retention event: each is kept and projected."""
        return EventConsumer(
            connection or broker_connection(self.settings.amqp_url),
            self.pool,
            SCHEMA,
            consumer_queues(EVENTS_QUEUE, SUBSCRIPTIONS[EVENTS_QUEUE]),
            {},
            max_retries=self.settings.consumer_max_retries,
            batch_size=self.settings.consumer_batch_size,
            fallback=lambda conn, envelope: project(conn, envelope, self.context),
            own_inbox=True,  # the stored events are the inbox (see service_layer/projection.py)
            outbox=self.context.outbox,
        )

    def retention_scheduler(self) -> RetentionScheduler:
        return RetentionScheduler(self.pool, self.context, self.settings.retention_interval.total_seconds())

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
    context = Context(
        mall_id=settings.mall_id,
        zone=settings.zone,
        policy=settings.policy,
        clock=clock,
        outbox=OutboxWriter(SCHEMA, pool.conninfo),
    )
    return Reporting(
        settings=settings,
        pool=pool,
        clock=clock,
        tokens=verifying_tokens(settings, pool, clock),
        context=context,
    )
