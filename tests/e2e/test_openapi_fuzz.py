"""Schemathesis over intake's OpenAPI document: every operation, property-based.

Each operation is one test with its own database (the demo mall plus three recorded complaints,
one corrected), fed schema-valid and schema-violating requests as a caller holding every role
intake knows of (service_desk; admin and operations_manager for PUT /reference/*). Every answer
is checked against the document; a 5xx or an undocumented status fails the test.

Checks: every one of schemathesis's, on (tests/support/fuzz.py):

* not_a_server_error, status_code_conformance, content_type_conformance,
  response_schema_conformance, response_headers_conformance — the contract itself;
* positive_data_acceptance (a schema-valid request is accepted) and negative_data_rejection (a
  schema-violating one is refused, 400 or 413): the document says what intake truly accepts.
  ALLOWED lists the only 400s a schema-valid request may get, each for a rule the document cannot
  state, naming only its fields (docs/security.md gives each with its reason);
* ignored_auth (the same request without the token must answer 401), unsupported_method and
  allow_header_conformance (undeclared methods answer 405 with `Allow`), missing_required_header;
  use_after_free and ensure_resource_availability have nothing to act on (no DELETE, no links).

Deterministic: a fixed seed, no example database, at most MAX_EXAMPLES fuzzed cases per operation
on top of schemathesis's coverage cases.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, settings

from services.intake.app import create_app
from services.intake.bootstrap import bootstrap
from tests.conftest import bearer
from tests.integration.conftest import complaint
from tests.support.fuzz import Allowed, fuzzed_service

CURSOR = "a cursor must be one the API issued (an opaque token of the last item of a page)"
RULES = (
    "the complaint's own rules across fields and against the mall's reference data: a phone for a phone"
    " complaint, an e-mail for an e-mail one, anonymous only by suggestion box and with no name or phone,"
    " what the reply channel needs; a floor, merchant and department the mall has, the merchant on the"
    " floor given; not in the future, no reply date before the day of receipt"
)
CONTENT = "a file's content must be a photo (JPEG, PNG, HEIC), a PDF or a recording, judged by its bytes"
COMPLAINT_RULES = {
    *(f"json.customer.{name}" for name in ("anonymous", "phone", "email", "address", "name")),
    *(
        f"json.{name}"
        for name in ("floor", "merchant_code", "department", "occurred_at", "promised_reply_date")
    ),
}
ALLOWED = (
    Allowed("GET /complaints", {"query.cursor"}, CURSOR),
    Allowed("GET /privacy/requests", {"query.cursor"}, CURSOR),
    Allowed("POST /complaints", COMPLAINT_RULES, RULES),
    Allowed("POST /public/complaints", COMPLAINT_RULES, RULES),
    Allowed("PATCH /complaints/{complaint_id}", COMPLAINT_RULES, RULES),
    Allowed("PUT /reference/merchants/{code}", {"json.floor"}, "a merchant's floor must be one the mall has"),
    Allowed("POST /complaints/{complaint_id}/attachments", {"files.file"}, CONTENT),
    Allowed("POST /complaints/attachments/check", {"files.file"}, CONTENT),
    Allowed("POST /public/attachments/check", {"files.file"}, CONTENT),
    Allowed(
        "POST /public/attachments",
        {"files.file", "files.upload_token"},
        f"{CONTENT}; an upload token must be one the form was given, not yet expired",
    ),
    Allowed("POST /reply-templates", {"json.title"}, "one title per category among the templates in use"),
    Allowed(
        "PATCH /reply-templates/{template_id}",
        {"json.title"},
        "one title per category among the templates in use",
    ),
)
FUZZED = fuzzed_service(create_app, bootstrap, ALLOWED)
APP, schema = FUZZED.app, FUZZED.schema
RECORDED = FUZZED.known  # path parameter -> a value naming a complaint the running test recorded


@pytest.fixture
def staff(tokens) -> dict:
    return bearer(tokens, "service_desk", "admin", "operations_manager", subject="fuzzer")


@pytest.fixture(autouse=True)
def recorded(app, staff) -> None:
    """Route the fuzzer to this test's app, with complaints in it to list, read and correct."""
    APP.app = app
    client = app.test_client()
    bodies = [
        complaint(),
        complaint(amount="5000.01", injury=True),
        complaint(channel="suggestion_box", customer={"anonymous": True}),
    ]
    responses = [client.post("/complaints", json=body, headers=staff) for body in bodies]
    assert [response.status_code for response in responses] == [201, 201, 201]
    first = responses[0].json
    correction = {"reason": "顾客补充", "people_count": 2}
    assert client.patch(f"/complaints/{first['id']}", json=correction, headers=staff).status_code == 200
    RECORDED.update(complaint_id=first["id"], number=first["number"])


@schema.parametrize()
# One database per operation, shared by its examples on purpose: they add to what is there.
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_every_operation_answers_as_its_openapi_document_says(case, staff):
    FUZZED.call_and_validate(case, staff)
