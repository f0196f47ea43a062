"""Schemathesis over routing's OpenAPI document: every operation, property-based.

Each operation is one test with its own database: the test diagram deployed and two cases started,
so tasks, cases and versions exist to be read, claimed, completed and messaged. The caller holds
every role routing knows of. Every answer is checked against the document; a 5xx or an
undocumented status fails the test. Every check is on, as in the intake run
(tests/e2e/test_openapi_fuzz.py); ALLOWED lists the 400s a schema-valid request may get, for rules
the document cannot state (a completion's form is the diagram's, a diagram must parse and prove).
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, settings

from services.common.identity.model import ROLES
from services.routing.app import create_app
from services.routing.bootstrap import bootstrap
from services.routing.service_layer import handlers
from tests.conftest import bearer
from tests.integration.routing.conftest import deploy, received
from tests.support.fuzz import Allowed, fuzzed_service

CURSOR = "a cursor must be one the API issued (an opaque token of the last item of a page)"
DIAGRAM = (
    "a diagram must be well-formed BPMN (and DMN, forms) that parses, maps its lanes to queues and passes"
    " its proof: checked by the deploy, not by a JSON schema; its DMN and form files' names must be plain"
    " file names (OpenAPI 3.0 cannot give the names of an object's members a pattern)"
)
FORM = (
    "the data must satisfy the task's form, declared on the diagram's element (its fields, which are"
    " required, their choices), and hold no NUL at any depth of the free-form object"
)
FREE_FORM = (
    "no NUL at any depth of a free-form object (OpenAPI 3.0 has no keyword for the names and nested"
    " values of an object whose fields it does not know)"
)
VERSION = "the version to move to must exist: a version of the case's process deployed before"
DEPLOYED = {"json.bpmn", "json.dmn", "json.dmn.*", "json.forms", "json.forms.*"}
ALLOWED = (
    Allowed("GET /tasks", {"query.cursor"}, CURSOR),
    Allowed("POST /processes", DEPLOYED, DIAGRAM),
    Allowed("POST /processes/proof", DEPLOYED, DIAGRAM),
    Allowed(
        "POST /cases/{case_id}/messages",
        {"json.data", "json.name"},
        FREE_FORM + "; and `name` a message some catch event of the case's diagram waits for",
    ),
    Allowed("POST /cases/{case_id}/retry", {"json.data"}, FREE_FORM),
    Allowed("POST /cases/{case_id}/migrate", {"json.to_version"}, VERSION),
    Allowed("POST /processes/{process_key}/{version}/migrate", {"json.to_version"}, VERSION),
    Allowed(
        "POST /tasks/{task_id}/reassign",
        {"json.assignee"},
        "the assignee must be an active staff member"
        " of the mall allowed to work the task's queue, floor and department",
    ),
    Allowed("POST /tasks/{task_id}/complete", {"json.*"}, FORM),
)
FUZZED = fuzzed_service(create_app, bootstrap, ALLOWED)
APP, schema = FUZZED.app, FUZZED.schema
KNOWN = FUZZED.known  # path parameter -> a value naming something the running test created


@pytest.fixture
def everyone(tokens) -> dict:
    """One caller holding every role, scoped to the floor of the cases it works on."""
    return bearer(tokens, *ROLES, floors=["3F"], departments=["security"], subject="fuzzer")


@pytest.fixture
def routing(settings, clock):
    runtime = bootstrap(settings, clock=clock)
    runtime.pool.open(wait=True)
    yield runtime
    runtime.pool.close()


@pytest.fixture(autouse=True)
def cases(routing) -> None:
    """Route the fuzzer to this test's app, with a deployed diagram and two running cases."""
    APP.app = create_app(routing)
    version = deploy(routing)
    started = [received(number=f"TS-20261122-000{n}") for n in (1, 2)]
    for envelope in started:
        handlers.start_case(envelope, routing.uow(), routing.context)
    with routing.uow() as uow:
        task = uow.tasks.open_for_case(started[0].complaint_id)[0]
    KNOWN.update(
        task_id=task.id,
        case_id=started[0].complaint_id,
        process_key=version.process_key,
        version=version.version,
    )


@schema.parametrize()
# One database per operation, shared by its examples on purpose: they act on what is there.
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_every_routing_operation_answers_as_its_openapi_document_says(case, everyone):
    FUZZED.call_and_validate(case, everyone)
