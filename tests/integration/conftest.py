"""Fixtures for intake running in-process on a test database of its own."""

from __future__ import annotations

import copy
from collections.abc import Iterator

import pytest

from services.intake.app import create_app
from services.intake.bootstrap import Intake, bootstrap
from services.intake.seed import load_reference
from tests.conftest import MALL, bearer

PHONE_COMPLAINT = {
    "channel": "phone",
    "category": "merchant_service",
    "customer": {"name": "王女士", "phone": "13912345678"},
    "floor": "3F",
    "merchant_code": "M-3F-001",
    "description": "店员态度恶劣，拒绝换货",
    "customer_request": "exchange",
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
def intake(settings, clock) -> Iterator[Intake]:
    runtime = bootstrap(settings, clock=clock)
    runtime.pool.open(wait=True)
    load_reference(runtime.pool, MALL)
    yield runtime
    runtime.pool.close()


@pytest.fixture
def app(intake):
    return create_app(intake)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def desk(tokens) -> dict:
    return bearer(tokens, "service_desk", subject="desk")


def outbox_rows(intake: Intake) -> list[dict]:
    with intake.pool.connection() as conn:
        return conn.execute("SELECT routing_key, envelope FROM intake.outbox ORDER BY created_at").fetchall()
