"""Gauges measured when Prometheus scrapes: what waits in PostgreSQL and in RabbitMQ.

They are read live rather than kept as gauges in memory, so every process of a service reports the
same truth (and gunicorn's worker processes need no shared gauge). A collector that cannot measure
(the database or broker is down) reports ``mall_collector_up{collector=…} 0`` instead of failing the
whole scrape: the other metrics still arrive, and the gap itself can be alerted on.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator

from kombu import Connection
from prometheus_client.core import GaugeMetricFamily, Metric
from psycopg import sql
from psycopg_pool import ConnectionPool

from services.common.bus.connection import is_memory

log = logging.getLogger(__name__)


class LiveCollector:
    """A prometheus_client collector whose measurement may fail without failing the scrape."""

    name = "live"

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "mall_collector_up",
            "1 when a scrape-time collector could measure, 0 when not.",
            labels=["collector"],
        )
        try:
            families = list(self.measure())
        except Exception as exc:  # a scrape must never fail because one backing server is down
            log.warning("collector %s could not measure: %s", self.name, exc)
            up.add_metric([self.name], 0)
            yield up
            return
        yield from families
        up.add_metric([self.name], 1)
        yield up

    def measure(self) -> Iterable[Metric]:
        raise NotImplementedError


class OutboxBacklog(LiveCollector):
    """How many events wait in a service's outbox, and how old the oldest is."""

    def __init__(self, pool: ConnectionPool, schema: str):
        self.pool = pool
        self.schema = schema
        self.name = f"outbox:{schema}"
        self._query = (
            sql.SQL(
                "SELECT count(*) AS waiting, coalesce(extract(epoch FROM now() - min(created_at)), 0) AS age"
                " FROM {}.outbox WHERE published_at IS NULL"
            )
            .format(sql.Identifier(schema))
            .as_string()
        )

    def measure(self) -> Iterable[Metric]:
        with self.pool.connection(timeout=2) as conn:
            row = conn.execute(self._query).fetchone()
        backlog = GaugeMetricFamily(
            "mall_outbox_backlog", "Events written but not yet published.", labels=["service"]
        )
        backlog.add_metric([self.schema], row["waiting"])
        age = GaugeMetricFamily(
            "mall_outbox_oldest_age_seconds",
            "Age of the oldest unpublished event (0 when none).",
            labels=["service"],
        )
        age.add_metric([self.schema], float(row["age"]))
        return [backlog, age]


class QueueDepth(LiveCollector):
    """Messages ready and consumers attached, per RabbitMQ queue, by a passive declare of each."""

    def __init__(self, amqp_url: str | None, queues: list[str], service: str):
        self.amqp_url = amqp_url
        self.queues = queues
        self.name = f"queues:{service}"

    def measure(self) -> Iterable[Metric]:
        if not self.amqp_url or is_memory(self.amqp_url):
            return []  # the one-process run's in-memory broker has no queues worth watching
        ready = GaugeMetricFamily(
            "mall_queue_messages", "Messages ready in a queue, not yet delivered.", labels=["queue"]
        )
        consumers = GaugeMetricFamily(
            "mall_queue_consumers", "Consumers attached to a queue.", labels=["queue"]
        )
        with Connection(self.amqp_url, connect_timeout=2) as connection:
            channel = connection.channel()
            for queue in self.queues:
                declared = channel.queue_declare(queue=queue, passive=True)
                ready.add_metric([queue], declared.message_count)
                consumers.add_metric([queue], declared.consumer_count)
        return [ready, consumers]
