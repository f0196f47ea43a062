"""Notify's composition root: settings, pool, clock, templates, channels, consumer and workers."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from functools import partial
from pathlib import Path

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
from services.common.links import status_page_link
from services.common.messagebus import MessageBus
from services.common.settings import NotifySettings, Settings
from services.notify.adapters.channels import Channel
from services.notify.adapters.channels.email import SmtpChannel, parse_smtp_url
from services.notify.adapters.channels.folder import FolderChannel
from services.notify.adapters.channels.http import SmsGatewayChannel, WebhookChannel
from services.notify.adapters.channels.inbox import InboxChannel, LetterChannel
from services.notify.adapters.channels.robots import Robot
from services.notify.adapters.reference import load_places
from services.notify.adapters.templates import TemplateRenderer
from services.notify.domain.timing import QuietHours, RateLimit, RetryPolicy
from services.notify.service_layer.context import Context
from services.notify.service_layer.handlers import COMMAND_HANDLERS, EVENT_HANDLERS
from services.notify.service_layer.unit_of_work import UnitOfWork
from services.notify.service_layer.worker import DeliveryWorker

log = logging.getLogger(__name__)
SCHEMA = "notify"
EVENTS_QUEUE = "notify.events"


@dataclass
class Notify:
    """Everything notify's entrypoints need, built once per process."""

    settings: Settings
    pool: ConnectionPool
    clock: Clock
    tokens: TokenIssuer
    context: Context
    outbox: OutboxWriter
    wake: threading.Event  # new deliveries to send in this process
    bus: MessageBus

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.pool, self.outbox, self.wake)

    def relay(self) -> OutboxRelay:
        return OutboxRelay.for_writer(self.pool, self.outbox, self.settings)

    def consumer(self, connection: Connection | None = None) -> EventConsumer:
        """The consumer of complaints, requests for messages, CAPA records and erasure requests
        (EVENT_HANDLERS)."""
        return _WakingConsumer(
            self.wake,
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

    def channels(self) -> dict[str, Channel]:
        """A fresh set of channels (each worker keeps its own SMTP connection)."""
        return build_channels(self.settings, self.pool, self.clock)

    def worker(self, channels: dict[str, Channel] | None = None) -> DeliveryWorker:
        return DeliveryWorker(self.uow, self.context, channels or self.channels(), wake=self.wake)

    def workers(self) -> list[DeliveryWorker]:
        return [self.worker() for _ in range(self.settings.notify.workers)]

    def collectors(self) -> list:
        """Scrape-time metrics: deliveries from notify's tables, depth of notify's queues."""
        from services.common.observability.collectors import QueueDepth
        from services.notify.metrics import NotifyGauges

        queues = [EVENTS_QUEUE + suffix for suffix in ("", ".retry", ".dead")]
        return [
            NotifyGauges(self.pool, self.settings.mall_id, self.clock),
            QueueDepth(self.settings.amqp_url, queues, "notify"),
        ]


class _WakingConsumer(EventConsumer):
    """Wakes this process's delivery workers once a message's deliveries are committed: a handler's
    unit of work joins the consumer's transaction, so the consumer's commit is the one to wake for."""

    def __init__(self, wake: threading.Event, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.wake = wake

    def apply_all(self, deliveries) -> list[bool]:
        applied = super().apply_all(deliveries)
        self.wake.set()
        return applied


def build_channels(settings: Settings, pool: ConnectionPool, clock: Clock) -> dict[str, Channel]:
    notify, outbox_dir = settings.notify, Path(settings.data_dir) / "outbox"
    sender_name = settings.mall_name
    channels: dict[str, Channel] = {
        "inbox": InboxChannel(pool, clock),
        "letter": LetterChannel(pool, clock),
    }
    if settings.smtp_url:
        server = parse_smtp_url(settings.smtp_url, notify.smtp_starttls)
        channels["email"] = SmtpChannel(server, notify.smtp_from, sender_name, notify.smtp_timeout)
    else:
        channels["email"] = FolderChannel(outbox_dir / "mail", "email", notify.smtp_from, sender_name)
    if notify.sms_url:
        channels["sms"] = SmsGatewayChannel(
            notify.sms_url, notify.sms_key, dict(notify.sms_templates), sender_name
        )
    else:
        channels["sms"] = FolderChannel(outbox_dir / "sms", "sms")
    if notify.webhook_secret or notify.robots:
        channels["webhook"] = WebhookChannel(
            notify.webhook_secret, clock, robots=robots(notify), robot_timeout=notify.robot_timeout
        )
    return channels


def robots(notify: NotifySettings) -> dict[str, Robot]:
    """The group robots by key, each with its DingTalk signing secret when it has one."""
    secrets = dict(notify.robot_secrets)
    return {key: Robot.configured(kind, url, secrets.get(key)) for key, kind, url in notify.robots}


def bootstrap(settings: Settings, pool: ConnectionPool | None = None, clock: Clock | None = None) -> Notify:
    pool = pool_from_settings(settings, SCHEMA, pool)
    clock = clock or Clock()
    if settings.smtp_url:
        parse_smtp_url(settings.smtp_url)  # a bad SMTP_URL stops the process at start, naming it
    notify = settings.notify
    context = Context(
        mall_id=settings.mall_id,
        clock=clock,
        zone=settings.zone,
        renderer=TemplateRenderer(notify.templates_dir),
        mall_names={"zh-CN": settings.mall_name, "en": settings.mall_name_en},
        mail_domain=notify.smtp_from.rpartition("@")[2] or "localhost",
        status_link=partial(status_page_link, settings),
        desk_phone=settings.desk_phone,
        quiet_hours=QuietHours.parse(notify.quiet_hours),
        rate_limit=RateLimit(notify.recipient_limit, notify.recipient_window),
        retry=RetryPolicy(notify.retry_base, notify.retry_max, notify.max_attempts),
        hold_for=notify.hold_for,
        webhooks=dict(notify.webhooks),
        robots=frozenset(key for key, *_ in notify.robots),
        places=load_places(notify.reference_file),
    )
    outbox, wake = OutboxWriter(SCHEMA, pool.conninfo), threading.Event()
    return Notify(
        settings,
        pool,
        clock,
        verifying_tokens(settings, pool, clock),
        context,
        outbox,
        wake,
        MessageBus(partial(UnitOfWork, pool, outbox, wake), context, COMMAND_HANDLERS, EVENT_HANDLERS),
    )


def announce_fallbacks(settings: Settings) -> None:
    """Say once, at start, where messages go when no server is configured for them."""
    outbox_dir = Path(settings.data_dir) / "outbox"
    if not settings.smtp_url:
        log.warning("SMTP_URL is not set: e-mail is kept in %s instead of sent", outbox_dir / "mail")
    if not settings.notify.sms_url:
        log.warning("NOTIFY_SMS_URL is not set: SMS are kept in %s instead of sent", outbox_dir / "sms")
