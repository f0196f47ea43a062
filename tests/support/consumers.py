"""A test queue's consumer, its messages and what its handlers did (tests/integration/test_bus.py,
test_consumer_batches.py; the fixtures `effects` and `start_consumer` are in tests/integration/conftest.py)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from kombu import Connection, Producer

from services.common.bus.consumer import EventConsumer
from services.common.bus.topology import EVENTS_EXCHANGE, consumer_queues


class RecordingConsumer(EventConsumer):
    """The real consumer, remembering whether each delivery was applied or seen before."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.outcomes: list[tuple[str, bool]] = []

    def apply_all(self, deliveries):
        applied = super().apply_all(deliveries)
        self.outcomes.extend(
            (envelope.id, first) for (envelope, _), first in zip(deliveries, applied, strict=True)
        )
        return applied


def record_effect(conn, envelope):
    """A handler's effect: a row of public.effects, in the consumer's transaction."""
    conn.execute("INSERT INTO public.effects VALUES (%s, %s)", (envelope.id, envelope.payload.get("number")))


def envelope(event_type="test.event", message_id=None, **payload) -> dict:
    return {
        "id": message_id or str(uuid.uuid4()),
        "type": event_type,
        "occurred_at": datetime(2026, 11, 22, 2, tzinfo=UTC).isoformat(),
        "complaint_id": None,
        "mall_id": "demo",
        "actor": {"id": "test", "role": None},
        "correlation_id": "test-correlation",
        "payload": payload,
        "schema_version": 1,
    }


def publish(amqp_url: str, body, routing_key="test.event", **properties) -> None:
    with Connection(amqp_url) as connection:
        producer = Producer(connection.default_channel, exchange=EVENTS_EXCHANGE)
        message_id = body.get("id") if isinstance(body, dict) else None
        producer.publish(
            body, routing_key=routing_key, declare=[EVENTS_EXCHANGE], message_id=message_id, **properties
        )


def dead_letters(amqp_url: str, name="test.effects") -> list:
    with Connection(amqp_url) as connection:
        queue = consumer_queues(name, []).dead(connection.default_channel)
        messages = []
        while (message := queue.get(no_ack=True)) is not None:
            messages.append(message)
        return messages


def waiting_in_queue(amqp_url: str, name="test.effects") -> int:
    """Messages the broker has not yet sent to a consumer."""
    with Connection(amqp_url) as connection:
        queue = consumer_queues(name, []).main(connection.default_channel)
        return queue.queue_declare(passive=True).message_count
