"""Routing's composition root."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from kombu import Connection
from psycopg_pool import ConnectionPool

from services.common.bus.connection import broker_connection
from services.common.bus.consumer import EventConsumer
from services.common.bus.events import (
    COMPLAINT_CORRECTED,
    COMPLAINT_MERGED,
    COMPLAINT_RECEIVED,
    RETENTION_ERASURE_REQUESTED,
)
from services.common.bus.outbox import OutboxRelay, OutboxWriter
from services.common.bus.topology import (
    COMMANDS_EXCHANGE,
    SUBSCRIPTIONS,
    TASK_COMMANDS,
    TASK_COMMANDS_QUEUE,
    consumer_queues,
    task_queue,
)
from services.common.clock import Clock
from services.common.db import pool_from_settings
from services.common.identity.revocation import verifying_tokens
from services.common.identity.tokens import TokenIssuer
from services.common.settings import Settings
from services.routing.domain.model import QUEUES
from services.routing.engine import Engine
from services.routing.engine.sandbox import shared_sandbox
from services.routing.service_layer import corrections, handlers, merging, retention
from services.routing.service_layer.context import Context
from services.routing.service_layer.diagrams import DiagramCache
from services.routing.service_layer.scheduler import TimerScheduler
from services.routing.service_layer.session import SCHEMA, Session, transaction

COMPLAINTS_QUEUE = "routing.complaints"


@dataclass
class Routing:
    """Everything routing's entrypoints need, built once per process."""

    settings: Settings
    pool: ConnectionPool
    clock: Clock
    tokens: TokenIssuer
    context: Context
    outbox: OutboxWriter

    @contextlib.contextmanager
    def session(self) -> Iterator[Session]:
        with transaction(self.pool, self.outbox) as session:
            yield session

    def handle(self, handler, command: Any) -> Any:
        """Run a command's handler in its own transaction."""
        with self.session() as session:
            return handler(command, session, self.context)

    def relay(self) -> OutboxRelay:
        return OutboxRelay.for_writer(self.pool, self.outbox, self.settings)

    def consumer(self, connection: Connection | None = None) -> EventConsumer:
        """The consumer that starts a case for each received complaint, hands it the desk's corrections,
        and erases old ones' personal data."""
        queues = consumer_queues(COMPLAINTS_QUEUE, SUBSCRIPTIONS[COMPLAINTS_QUEUE])
        on_received = lambda conn, envelope: handlers.start_case(  # noqa: E731
            Session(conn, self.outbox), self.context, envelope
        )
        on_erasure = lambda conn, envelope: retention.erase_on_request(  # noqa: E731
            Session(conn, self.outbox), self.context, envelope
        )
        on_corrected = lambda conn, envelope: corrections.correct_case(  # noqa: E731
            Session(conn, self.outbox), self.context, envelope
        )
        on_merged = lambda conn, envelope: merging.close_merged_case(  # noqa: E731
            Session(conn, self.outbox), self.context, envelope
        )
        return EventConsumer(
            connection or broker_connection(self.settings.amqp_url),
            self.pool,
            SCHEMA,
            queues,
            {
                COMPLAINT_RECEIVED: on_received,
                COMPLAINT_CORRECTED: on_corrected,
                COMPLAINT_MERGED: on_merged,
                RETENTION_ERASURE_REQUESTED: on_erasure,
            },
            max_retries=self.settings.consumer_max_retries,
            batch_size=self.settings.consumer_batch_size,
            also_declare=[task_queue(role) for role in sorted(QUEUES)],
            outbox=self.outbox,
        )

    def command_consumer(self, connection: Connection | None = None):
        """The consumer of task commands from departments' own systems."""
        from services.routing.entrypoints.commands import TaskCommandConsumer

        return TaskCommandConsumer(
            connection or broker_connection(self.settings.amqp_url),
            self.pool,
            SCHEMA,
            consumer_queues(TASK_COMMANDS_QUEUE, TASK_COMMANDS, COMMANDS_EXCHANGE),
            max_retries=self.settings.consumer_max_retries,
            tokens=self.tokens,
            context=self.context,
            outbox=self.outbox,
        )

    def scheduler(self) -> TimerScheduler:
        return TimerScheduler(self)

    def collectors(self) -> list:
        """Scrape-time metrics: tasks and timers from routing's tables, depth of routing's queues."""
        from services.common.observability.collectors import QueueDepth
        from services.routing.metrics import RoutingGauges

        consumed = [COMPLAINTS_QUEUE, TASK_COMMANDS_QUEUE]
        queues = [name + suffix for name in consumed for suffix in ("", ".retry", ".dead")]
        queues += [task_queue(role).name for role in sorted(QUEUES)]
        return [
            RoutingGauges(self.pool, self.settings.mall_id, self.clock, QUEUES),
            QueueDepth(self.settings.amqp_url, queues, "routing"),
        ]


def bootstrap(settings: Settings, pool: ConnectionPool | None = None, clock: Clock | None = None) -> Routing:
    pool = pool_from_settings(settings, SCHEMA, pool)
    clock = clock or Clock()
    context = Context(
        mall_id=settings.mall_id,
        clock=clock,
        engine=Engine(clock),
        diagrams=DiagramCache(),
        sandbox=shared_sandbox(settings.routing_step_processes),
        time_zone=settings.mall_time_zone,
        process_key=settings.complaint_process,
        policy={**settings.policy.as_workflow_data(), "time_zone": settings.mall_time_zone},
    )
    return Routing(
        settings=settings,
        pool=pool,
        clock=clock,
        tokens=verifying_tokens(settings, pool, clock),
        context=context,
        outbox=OutboxWriter(SCHEMA, pool.conninfo),
    )
