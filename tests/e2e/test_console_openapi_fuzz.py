"""Schemathesis over the console's OpenAPI document (its JSON API: staff users, roles, scopes,
passwords, sessions and service tokens), as tests/e2e/test_openapi_fuzz.py does for intake: every
check on (a name already taken is a documented 409); ALLOWED lists the 400s a schema-valid request
may get, for rules the document cannot state (a password's four different characters, floors and
departments the mall has).

Each operation is one test with its own database holding two staff users (a desk clerk with a
password and a floor supervisor of 3F), so half the generated usernames name a user that exists
and 200 bodies are checked too. The caller holds the role `admin`, the only role the API admits.
Intake runs beside it on the same database with the demo mall's reference data, as in the one-process
run: the console checks a user's floors and departments against it.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, settings
from werkzeug.exceptions import NotFound
from werkzeug.middleware.dispatcher import DispatcherMiddleware

from services.console.app import create_app
from services.console.bootstrap import bootstrap
from services.intake.app import create_app as create_intake_app
from tests.conftest import MALL, bearer
from tests.support.fuzz import Allowed, fuzzed_service

PASSWORD = "a password needs at least 4 different characters and no leading or trailing space"
SCOPES = "floors and departments must be the mall's own (intake's reference data, which the mall edits)"
ALLOWED = (
    Allowed("POST /api/users", {"json.password", "json.floors", "json.departments"}, f"{PASSWORD}; {SCOPES}"),
    Allowed("PATCH /api/users/{username}", {"json.floors", "json.departments"}, SCOPES),
    Allowed("PUT /api/users/{username}/password", {"json.password"}, PASSWORD),
)
FUZZED = fuzzed_service(create_app, bootstrap, ALLOWED)
APP, schema = FUZZED.app, FUZZED.schema
KNOWN = FUZZED.known  # path parameter -> a value naming a user of the running test


@pytest.fixture
def admin(tokens) -> dict:
    return bearer(tokens, "admin", subject="admin")


@pytest.fixture(autouse=True)
def console(settings, clock, intake):
    """Route the fuzzer to this test's console, with two users in it and intake to call."""
    runtime = bootstrap(settings, clock=clock)
    runtime.pool.open(wait=True)
    runtime.services.use_wsgi(DispatcherMiddleware(NotFound(), {"/intake": create_intake_app(intake)}))
    runtime.users.create(
        MALL, "desk", ["service_desk"], [], [], display_name="服务台", password="a-long-password"
    )
    runtime.users.create(MALL, "floor3", ["floor_supervisor"], ["3F"], [])
    KNOWN["username"] = "desk"
    APP.app = create_app(runtime)
    yield runtime
    runtime.pool.close()


@schema.parametrize()
# One database per operation, shared by its examples on purpose: they act on what is there.
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_every_console_api_operation_answers_as_its_openapi_document_says(case, admin):
    FUZZED.call_and_validate(case, admin)
