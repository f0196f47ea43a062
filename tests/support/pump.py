"""Moves events from services' outboxes to the consumers bound to them, at once and in order, without a
broker: what the relays and RabbitMQ do, made synchronous so a test can say "and then everyone heard"."""

from __future__ import annotations

from psycopg import sql

from services.common.bus.consumer import EventConsumer
from services.common.bus.envelope import load_envelope


def topic_matches(binding: str, key: str) -> bool:
    """AMQP topic matching: `*` is one word, `#` zero or more."""
    pattern, words = binding.split("."), key.split(".")

    def match(i: int, j: int) -> bool:
        if i == len(pattern):
            return j == len(words)
        if pattern[i] == "#":
            return any(match(i + 1, rest) for rest in range(j, len(words) + 1))
        return j < len(words) and pattern[i] in ("*", words[j]) and match(i + 1, j + 1)

    return match(0, 0)


class Pump:
    def __init__(self, pool, schemas: list[str], consumers: list[EventConsumer]):
        self.pool, self.schemas = pool, schemas
        self.routes = [
            (consumer, [b.routing_key for b in consumer.queues.main.bindings]) for consumer in consumers
        ]

    def run(self) -> int:
        """Deliver until every outbox is empty (answers to answers included); how many were delivered."""
        delivered = 0
        while moved := self._once():
            delivered += moved
        return delivered

    def _once(self) -> int:
        moved = 0
        for schema in self.schemas:
            for row in self._take(schema):
                envelope = load_envelope(row["envelope"])
                for consumer, bindings in self.routes:
                    if any(topic_matches(binding, row["routing_key"]) for binding in bindings):
                        handler = consumer.handlers.get(envelope.type, consumer.fallback)
                        if handler is not None:
                            consumer.apply(envelope, handler)
                moved += 1
        return moved

    def _take(self, schema: str) -> list[dict]:
        with self.pool.connection() as conn:
            rows = conn.execute(
                sql.SQL(
                    "UPDATE {0}.outbox SET published_at = now() WHERE id IN (SELECT id FROM {0}.outbox"
                    " WHERE published_at IS NULL ORDER BY created_at) RETURNING routing_key, envelope, created_at"
                ).format(sql.Identifier(schema))
            ).fetchall()
        return sorted(rows, key=lambda row: row["created_at"])
