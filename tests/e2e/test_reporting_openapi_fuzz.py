"""Schemathesis over reporting's OpenAPI document: every operation, property-based, as
test_openapi_fuzz.py does for intake (read its docstring for the checks, every one on; ALLOWED
lists the 400s a schema-valid request may get, for rules the document cannot state).

Each operation is one test with its own database, holding cases of November 2026 (a recurring
problem among them, so a CAPA record exists to read and update), fed schema-valid and
schema-violating requests by a caller holding the operations manager's and the desk's roles.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, settings
from kombu import Connection

from services.reporting.app import create_app
from services.reporting.bootstrap import bootstrap
from tests.conftest import bearer
from tests.integration.reporting.conftest import deliver
from tests.support.fuzz import Allowed, fuzzed_service
from tests.support.stories import Round, Story, events

CURSOR = "a cursor must be one the API issued (an opaque token of the last item of a page)"
CAPA_FIELDS = ("status", "cause", "action", "owner", "verification")
ALLOWED = (
    Allowed("GET /capa", {"query.cursor"}, CURSOR),
    Allowed("GET /reports/weekly", {"query.week"}, "week 53 exists only in the ISO years that have one"),
    Allowed(
        "GET /reviews/daily", {"query.date"}, "a day between 1970 and 2999 (a date's format has no range)"
    ),
    Allowed(
        "PATCH /capa/{capa_id}",
        {f"json.{name}" for name in CAPA_FIELDS},
        "a record's status only moves on (not back to open once worked on), and `verified` needs cause,"
        " action, owner and verification, given or already recorded: rules over the record as it stands",
    ),
)
FUZZED = fuzzed_service(create_app, bootstrap, ALLOWED)
APP, schema = FUZZED.app, FUZZED.schema
KNOWN = FUZZED.known  # path parameter -> a value naming a record of the running test


@pytest.fixture
def staff(tokens) -> dict:
    return bearer(tokens, "operations_manager", "service_desk", subject="fuzzer")


@pytest.fixture(autouse=True)
def reporting_app(settings, clock):
    """Route the fuzzer to this test's reporting, with cases and a CAPA record in it."""
    clock.set(datetime(2026, 12, 3, tzinfo=UTC))
    runtime = bootstrap(settings, clock=clock)
    runtime.pool.open(wait=True)
    consumer = runtime.consumer(Connection("memory://"))
    start = datetime(2026, 11, 3, 2, tzinfo=UTC)
    stories = [
        Story(
            received_at=start + timedelta(days=day),
            category="quality",
            rounds=[Round(start + timedelta(days=day, hours=5), start + timedelta(days=day, hours=6))],
        )
        for day in (0, 2, 4)
    ]
    for envelope in (event for story in stories for event in events(story)):
        deliver(consumer, envelope)
    with runtime.pool.connection() as conn:
        KNOWN["capa_id"] = str(conn.execute("SELECT id FROM reporting.capa").fetchone()["id"])
    APP.app = create_app(runtime)
    yield
    runtime.pool.close()


@schema.parametrize()
# One database per operation, shared by its examples on purpose: they add to what is there.
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_every_reporting_operation_answers_as_its_openapi_document_says(case, staff):
    FUZZED.call_and_validate(case, staff)
