"""Routing's composition root: wires settings, pool, clock, tokens, the engine's context and the
message bus."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from kombu import Connection
from psycopg_pool import ConnectionPool

from services.common.bus.connection import broker_connection
from services.common.bus.consumer import EventConsumer
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
from services.common.messagebus import MessageBus
from services.common.settings import Settings
from services.routing.domain.model import QUEUES
from services.routing.engine import Engine
from services.routing.engine.sandbox import shared_sandbox
from services.routing.service_layer.context import Context
from services.routing.service_layer.diagrams import DiagramCache
from services.routing.service_layer.handlers import COMMAND_HANDLERS, EVENT_HANDLERS
from services.routing.service_layer.scheduler import TimerScheduler
from services.routing.service_layer.unit_of_work import SCHEMA, UnitOfWork

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
    bus: MessageBus

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.pool, self.outbox)

    def reading(self) -> UnitOfWork:
        """What a route that only reads opens: its statements without BEGIN and COMMIT."""
        return UnitOfWork(self.pool, self.outbox, reads_only=True)

    def relay(self) -> OutboxRelay:
        return OutboxRelay.for_writer(self.pool, self.outbox, self.settings)

    def consumer(self, connection: Connection | None = None) -> EventConsumer:
        """The consumer that starts a case for each received complaint, hands it the desk's corrections,
        and erases old ones' personal data."""
        return EventConsumer(
            connection or broker_connection(self.settings.amqp_url),
            self.pool,
            SCHEMA,
            consumer_queues(COMPLAINTS_QUEUE, SUBSCRIPTIONS[COMPLAINTS_QUEUE]),
            self.bus.consumer_handlers(),
            max_retries=self.settings.consumer_max_retries,
            batch_size=self.settings.consumer_batch_size,
            linger_seconds=self.settings.consumer_linger_ms / 1000,
            also_declare=[task_queue(role) for role in sorted(QUEUES)],
            outbox=self.outbox,
            transaction_scope=self.bus.joined,
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
            bus=self.bus,
            outbox=self.outbox,
        )

    def warm_up(self) -> None:
        """Start the sandbox processes and have each parse the active diagram, so that the first
        steps after a start wait for neither (a new interpreter's start-up and the shipped diagram's
        parse cost about a second of CPU each). No active diagram: nothing to do yet."""
        with self.reading() as uow:
            active = uow.processes.active(self.settings.mall_id, self.context.process_key)
            if active is None:
                return
            source = self.context.diagrams.source(active.id, uow.processes.get)
        self.context.sandbox.prepare(source)  # the connection back in the pool: this takes seconds

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
    outbox = OutboxWriter(SCHEMA, pool.conninfo)
    return Routing(
        settings=settings,
        pool=pool,
        clock=clock,
        tokens=verifying_tokens(settings, pool, clock),
        context=context,
        outbox=outbox,
        bus=MessageBus(partial(UnitOfWork, pool, outbox), context, COMMAND_HANDLERS, EVENT_HANDLERS),
    )
