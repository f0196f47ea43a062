"""Fixtures for intake running in-process on a test database of its own, and for a test queue's consumer."""

from __future__ import annotations

import copy
import threading

import pytest
from kombu import Connection

from services.common.bus.topology import consumer_queues
from services.intake.bootstrap import Intake
from tests.conftest import bearer
from tests.support.consumers import RecordingConsumer
from tests.support.waiting import eventually

PHONE_COMPLAINT = {
    "channel": "phone",
    "category": "merchant_service",
    "customer": {"name": "王女士", "phone": "13912345678"},
    "floor": "3F",
    "merchant_code": "M-3F-001",
    "description": "店员态度恶劣，拒绝换货",
    "customer_request": ["exchange"],
    "amount": "399.00",
}


def complaint(**changes) -> dict:
    """A valid desk complaint with some fields changed (None removes a field)."""
    body = copy.deepcopy(PHONE_COMPLAINT)
    for key, value in changes.items():
        if value is None:
            body.pop(key, None)
        else:
            body[key] = value
    return body


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def desk(tokens) -> dict:
    return bearer(tokens, "service_desk", subject="desk")


def outbox_rows(intake: Intake) -> list[dict]:
    with intake.pool.connection() as conn:
        return conn.execute("SELECT routing_key, envelope FROM intake.outbox ORDER BY created_at").fetchall()


@pytest.fixture
def effects(intake):
    """A table the test handlers write to, in the test's own database."""
    with intake.pool.connection() as conn:
        conn.execute("CREATE TABLE public.effects (message_id text, number text)")

    def rows():
        with intake.pool.connection() as conn:
            return conn.execute("SELECT message_id, number FROM public.effects").fetchall()

    return rows


@pytest.fixture
def start_consumer(intake, amqp_url):
    """Start a consumer in a thread on a test queue; stopped at the end of the test."""
    started = []

    def start(
        handler, max_retries=2, name="test.effects", batch_size=50, url=None, consumer_class=None, linger=0.0
    ):
        queues = consumer_queues(name, ["complaint.received", "test.#"])
        consumer = (consumer_class or RecordingConsumer)(
            Connection(url or amqp_url),
            intake.pool,
            "intake",
            queues,
            {"complaint.received": handler, "test.event": handler},
            max_retries=max_retries,
            retry_base_delay=0.05,
            batch_size=batch_size,  # as the services run (CONSUMER_BATCH_SIZE)
            linger_seconds=linger,
            outbox=intake.outbox,
        )
        thread = threading.Thread(target=consumer.run, daemon=True)
        thread.start()
        started.append((consumer, thread))
        eventually(consumer.ready.is_set)
        return consumer

    yield start
    for consumer, thread in started:
        consumer.should_stop = True
        thread.join(timeout=10)
