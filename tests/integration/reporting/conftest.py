"""Reporting in-process on a test database of its own; events are handed to its consumer's handler
(through the inbox, as the broker would deliver them)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import pytest
from kombu import Connection

from services.common.bus.consumer import EventConsumer
from services.common.bus.envelope import Envelope, dump_envelope, load_envelope
from services.reporting.app import create_app
from services.reporting.bootstrap import Reporting, bootstrap
from tests.conftest import bearer
from tests.integration.notify.conftest import gateway, mail, notify, notify_settings  # noqa: F401 — fixtures


@pytest.fixture
def reporting(settings, clock) -> Iterator[Reporting]:
    runtime = bootstrap(settings, clock=clock)
    runtime.pool.open(wait=True)
    yield runtime
    runtime.pool.close()


def deliver(consumer: EventConsumer, envelope: Envelope) -> bool:
    """One envelope to the consumer as the broker would: JSON on the wire, the handler its tables
    give the type (a type newer than reporting: the one keeping it), in one transaction; False for
    a redelivery."""
    handler = consumer.handlers.get(envelope.type, consumer.fallback)
    return consumer.apply(load_envelope(dump_envelope(envelope)), handler)


@pytest.fixture
def feed(reporting):
    """Deliver envelopes to reporting's consumer; how many were new."""
    consumer = reporting.consumer(Connection("memory://"))

    def deliver_all(envelopes: Iterable[Envelope]) -> int:
        return sum(deliver(consumer, envelope) for envelope in envelopes)

    return deliver_all


@pytest.fixture
def api(reporting):
    return create_app(reporting).test_client()


@pytest.fixture
def staff(tokens):
    def headers(role: str, **scope) -> dict:
        return bearer(tokens, role, subject=f"{role}-1", **scope)

    return headers


def table(reporting: Reporting, name: str, order: str) -> list[dict]:
    with reporting.pool.connection() as conn:
        return conn.execute(f"SELECT * FROM reporting.{name} ORDER BY {order}").fetchall()
