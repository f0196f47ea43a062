"""Schemathesis over notify's OpenAPI document: every operation, property-based, as
tests/e2e/test_openapi_fuzz.py does for intake (every check on; ALLOWED: a cursor must be one the
API issued), on a database holding one
complaint whose acknowledgement bounced: a failed delivery, an alert in the desk's inbox, a letter."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, settings

from services.notify.app import create_app
from services.notify.bootstrap import bootstrap
from tests.conftest import bearer
from tests.integration.notify.conftest import complaint_received, requested
from tests.support.fuzz import Allowed, fuzzed_service

CURSOR = "a cursor must be one the API issued (an opaque token of the last item of a page)"
ALLOWED = (
    Allowed("GET /inbox", {"query.cursor"}, CURSOR),
    Allowed("GET /deliveries/failed", {"query.cursor"}, CURSOR),
)
FUZZED = fuzzed_service(create_app, bootstrap, ALLOWED)
APP, schema = FUZZED.app, FUZZED.schema
KNOWN = FUZZED.known


@pytest.fixture
def staff(tokens) -> dict:
    # admin too: a customer's copy (POST /privacy/exports) is the admin's alone, and is fuzzed as well
    return bearer(tokens, "service_desk", "operations_manager", "admin", subject="desk")


@pytest.fixture(autouse=True)
def recorded(notify, deliver, worker, mail) -> None:
    APP.app = create_app(notify)
    mail.refuse("wang@example.com", "550 5.1.1 mailbox unavailable")
    received = complaint_received(
        channel="email", customer={"email": "wang@example.com", "preferred_reply_channel": "email"}
    )
    deliver(received)
    deliver(requested(received.complaint_id, "written_reply", reply_text="已退款"))
    worker.tick()
    worker.tick()
    with notify.uow() as uow:
        failed = uow.conn.execute("SELECT id FROM notify.deliveries WHERE state = 'failed'").fetchone()
        item = uow.conn.execute("SELECT id FROM notify.inbox_items WHERE username = 'desk'").fetchone()
    KNOWN.update(complaint_id=received.complaint_id, delivery_id=str(failed["id"]), item_id=str(item["id"]))


@schema.parametrize()
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_every_notify_operation_answers_as_its_openapi_document_says(case, staff):
    FUZZED.call_and_validate(case, staff)
