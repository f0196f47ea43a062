"""Fixtures for intake running in-process on a test database of its own."""

from __future__ import annotations

import copy

import pytest

from services.intake.bootstrap import Intake
from tests.conftest import bearer

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
