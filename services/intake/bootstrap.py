"""Intake's composition root: wires settings, pool, clock, tokens and the message bus."""

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
from services.common.objects import ObjectStore, object_store_from_settings
from services.common.settings import Settings
from services.intake.adapters.reference_cache import ReferenceCache
from services.intake.service_layer.handlers import COMMAND_HANDLERS, EVENT_HANDLERS, Context
from services.intake.service_layer.unit_of_work import UnitOfWork

SCHEMA = "intake"
EVENTS_QUEUE = "intake.events"


@dataclass
class Intake:
    """Everything intake's entrypoints need, built once per process."""

    settings: Settings
    pool: ConnectionPool
    clock: Clock
    tokens: TokenIssuer
    bus: MessageBus
    outbox: OutboxWriter
    reference_cache: ReferenceCache
    objects: ObjectStore

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.pool, self.outbox, self.reference_cache, self.objects)

    def relay(self) -> OutboxRelay:
        return OutboxRelay.for_writer(self.pool, self.outbox, self.settings)

    def consumer(self, connection: Connection | None = None) -> EventConsumer:
        """Intake's one consumer: routing's task events keep `intake.case_holders` (who may see a
        customer unmasked), its stage events `intake.case_progress` (the status page), and retention
        requests erase the personal data intake holds (EVENT_HANDLERS)."""
        return EventConsumer(
            connection or broker_connection(self.settings.amqp_url),
            self.pool,
            SCHEMA,
            consumer_queues(EVENTS_QUEUE, SUBSCRIPTIONS[EVENTS_QUEUE]),
            self.bus.consumer_handlers(),
            max_retries=self.settings.consumer_max_retries,
            batch_size=self.settings.consumer_batch_size,
            linger_seconds=self.settings.consumer_linger_ms / 1000,
            outbox=self.outbox,
            transaction_scope=self.bus.joined,
        )

    def mail_workers(self) -> list:
        """The mailbox worker, when the mall's complaint mailbox is configured (IMAP_HOST)."""
        if not self.settings.mailbox.host:
            return []
        from services.intake.mail.worker import MailboxWorker

        return [MailboxWorker(self.settings.mailbox, self.pool, self.settings.mall_id, self.clock)]

    def mailbox_state(self):
        from services.intake.mail.metrics import MailboxState

        return MailboxState(self.pool, self.settings.mall_id, self.clock)

    def queue_depth(self):
        """Scrape-time depth of the consumer's queues, with its retry and dead-letter queues."""
        from services.common.observability.collectors import QueueDepth

        queues = [EVENTS_QUEUE + suffix for suffix in ("", ".retry", ".dead")]
        return QueueDepth(self.settings.amqp_url, queues, "intake")


def bootstrap(
    settings: Settings,
    pool: ConnectionPool | None = None,
    clock: Clock | None = None,
    objects: ObjectStore | None = None,
) -> Intake:
    pool = pool_from_settings(settings, SCHEMA, pool)
    clock = clock or Clock()
    outbox = OutboxWriter(SCHEMA, pool.conninfo)
    context = Context(
        mall_id=settings.mall_id,
        policy=settings.policy,
        zone=settings.zone,
        clock=clock,
        max_attachment_bytes=settings.attachment_max_bytes,
    )
    reference_cache = ReferenceCache()
    objects = objects or object_store_from_settings(settings)
    uow_factory = partial(UnitOfWork, pool, outbox, reference_cache, objects)
    return Intake(
        settings=settings,
        pool=pool,
        clock=clock,
        tokens=verifying_tokens(settings, pool, clock),
        bus=MessageBus(uow_factory, context, COMMAND_HANDLERS, EVENT_HANDLERS),
        outbox=outbox,
        reference_cache=reference_cache,
        objects=objects,
    )
