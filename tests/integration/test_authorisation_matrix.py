"""Every API endpoint of the one-process run × every role: allowed or refused, all asserted.

The endpoints come from each mounted service's OpenAPI document, so a new service (or a new
route) joins this test when it is merged and fails it until its expected roles are written
below. Scopes (a floor supervisor's floors, a manager's department) are tested where they apply
(routing's and intake's tests, the browser test); here every scoped role carries a scope.
"""

from __future__ import annotations

import re
import uuid

import pytest
from werkzeug.test import Client

from services.common.identity.model import ROLES
from tests.conftest import bearer
from tests.support.system import system_on_its_own_database

DESK, FLOOR, DEPARTMENT, OPS, DEPUTY, STORE = (
    "service_desk",
    "floor_supervisor",
    "department_manager",
    "operations_manager",
    "deputy_store_manager",
    "store_manager",
)
DESIGNER, ADMIN, SERVICE, ANONYMOUS = "process_designer", "admin", "service", "anonymous"
PROCESS = {DESK, FLOOR, DEPARTMENT, OPS, DEPUTY, STORE}
EVERYONE = {*ROLES, ANONYMOUS}
CALLERS = sorted(EVERYONE)

# (method, path as in the OpenAPI document, under its mount) -> the callers allowed.
EXPECTED: dict[tuple[str, str], set[str]] = {
    ("POST", "/intake/complaints"): {DESK},
    ("GET", "/intake/complaints"): PROCESS | {SERVICE},
    ("GET", "/intake/complaints/{complaint_id}"): PROCESS | {SERVICE},
    ("PATCH", "/intake/complaints/{complaint_id}"): {DESK},
    ("GET", "/intake/complaints/by-number/{number}"): PROCESS | {SERVICE},
    ("GET", "/intake/complaints/{complaint_id}/history"): {DESK, OPS, STORE},
    ("GET", "/intake/complaints/search"): PROCESS | {SERVICE},
    ("GET", "/intake/complaints/customer-history"): PROCESS | {SERVICE},
    ("GET", "/intake/complaints/{complaint_id}/customer-history"): PROCESS | {SERVICE},
    ("GET", "/intake/complaints/{complaint_id}/related"): PROCESS | {SERVICE},
    ("POST", "/intake/complaints/{complaint_id}/links"): {DESK},
    ("POST", "/intake/complaints/{complaint_id}/merge"): {DESK},
    ("POST", "/intake/complaints/{complaint_id}/attachments"): PROCESS | {SERVICE},
    ("GET", "/intake/complaints/{complaint_id}/attachments"): PROCESS | {SERVICE},
    ("GET", "/intake/complaints/{complaint_id}/attachments/{attachment_id}"): PROCESS | {SERVICE},
    ("GET", "/intake/complaints/{complaint_id}/attachments/{attachment_id}/thumbnail"): PROCESS | {SERVICE},
    ("POST", "/intake/public/attachments"): EVERYONE,
    ("POST", "/intake/public/attachments/check"): EVERYONE,
    ("POST", "/intake/complaints/attachments/check"): {DESK},
    ("POST", "/intake/public/complaints"): EVERYONE,
    ("GET", "/intake/public/reference"): EVERYONE,
    (
        "POST",
        "/intake/public/status",
    ): EVERYONE,  # the customers' status page: a number and a phone's last digits
    ("GET", "/intake/reply-templates"): PROCESS | {SERVICE, ADMIN},
    ("POST", "/intake/reply-templates"): {ADMIN, OPS},
    ("PATCH", "/intake/reply-templates/{template_id}"): {ADMIN, OPS},
    ("POST", "/intake/reply-templates/{template_id}/retire"): {ADMIN, OPS},
    ("POST", "/intake/reply-templates/{template_id}/restore"): {ADMIN, OPS},
    ("GET", "/intake/reference/floors"): PROCESS | {SERVICE, ADMIN},
    ("GET", "/intake/reference/departments"): PROCESS | {SERVICE, ADMIN},
    ("GET", "/intake/reference/merchants"): PROCESS | {SERVICE, ADMIN},
    ("PUT", "/intake/reference/floors/{code}"): {ADMIN, OPS},
    ("PUT", "/intake/reference/departments/{code}"): {ADMIN, OPS},
    ("PUT", "/intake/reference/merchants/{code}"): {ADMIN, OPS},
    ("GET", "/intake/email-drafts"): {DESK},
    ("GET", "/intake/email-drafts/mailbox"): {DESK},
    ("GET", "/intake/email-drafts/{draft_id}"): {DESK},
    ("GET", "/intake/email-drafts/{draft_id}/attachments/{attachment_id}"): {DESK},
    ("POST", "/intake/email-drafts/{draft_id}/confirm"): {DESK},
    ("POST", "/intake/email-drafts/{draft_id}/dismiss"): {DESK},
    ("GET", "/intake/email-drafts/of-complaint/{complaint_id}"): PROCESS | {SERVICE},
    ("POST", "/intake/privacy/exports"): {ADMIN},
    ("POST", "/intake/privacy/erasures"): {ADMIN},
    ("GET", "/intake/privacy/requests"): {ADMIN},
    ("POST", "/routing/privacy/exports"): {ADMIN},
    ("POST", "/notify/privacy/exports"): {ADMIN},
    ("POST", "/routing/processes"): {DESIGNER},
    ("GET", "/routing/processes"): {DESIGNER, OPS, ADMIN},
    ("GET", "/routing/processes/{process_key}/{version}/bpmn"): {DESIGNER, OPS, ADMIN},
    ("GET", "/routing/processes/{process_key}/{version}/dmn/{name}"): {DESIGNER, OPS, ADMIN},
    ("GET", "/routing/tasks"): PROCESS,
    ("GET", "/routing/tasks/{task_id}"): PROCESS,
    ("POST", "/routing/tasks/{task_id}/claim"): PROCESS,
    ("POST", "/routing/tasks/{task_id}/unclaim"): PROCESS,
    ("POST", "/routing/tasks/{task_id}/reassign"): PROCESS,
    ("POST", "/routing/tasks/{task_id}/complete"): PROCESS,
    ("POST", "/routing/processes/proof"): {DESIGNER},
    ("POST", "/routing/processes/{process_key}/{version}/activate"): {DESIGNER, ADMIN},
    ("GET", "/routing/processes/{process_key}/activations"): {DESIGNER, OPS, ADMIN},
    ("POST", "/routing/processes/{process_key}/{version}/migrate"): {OPS, DESIGNER, ADMIN},
    ("GET", "/routing/cases/{case_id}"): PROCESS | {SERVICE, DESIGNER, ADMIN},
    ("GET", "/routing/cases/{case_id}/timeline"): PROCESS | {SERVICE, DESIGNER, ADMIN},
    ("GET", "/routing/cases/{case_id}/diagram"): PROCESS | {SERVICE, DESIGNER, ADMIN},
    ("POST", "/routing/cases/{case_id}/retry"): {OPS, STORE, DESIGNER, ADMIN},
    ("GET", "/routing/cases/{case_id}/timers"): PROCESS | {SERVICE, DESIGNER, ADMIN},
    ("POST", "/routing/cases/{case_id}/timers/{timer_id}/fire"): {OPS, STORE, ADMIN},
    ("PATCH", "/routing/cases/{case_id}/timers/{timer_id}"): {OPS, STORE, ADMIN},
    ("POST", "/routing/cases/{case_id}/migrate"): {OPS, DESIGNER, ADMIN},
    ("GET", "/routing/incidents"): {OPS, STORE, DESIGNER, ADMIN},
    ("POST", "/routing/cases/{case_id}/messages"): PROCESS | {SERVICE},
    ("GET", "/notify/inbox"): PROCESS | {DESIGNER, ADMIN},
    ("POST", "/notify/inbox/{item_id}/read"): PROCESS | {DESIGNER, ADMIN},
    ("GET", "/notify/complaints/{complaint_id}/deliveries"): {DESK, OPS, STORE, ADMIN},
    ("GET", "/notify/deliveries/failed"): {DESK, OPS, STORE, ADMIN},
    ("GET", "/notify/deliveries/{delivery_id}/letter.pdf"): {DESK},
    ("POST", "/notify/deliveries/{delivery_id}/retry"): {DESK},
    ("GET", "/reporting/reviews/daily"): PROCESS | {SERVICE},
    ("GET", "/reporting/reports/weekly"): PROCESS | {SERVICE},
    ("GET", "/reporting/reports/monthly"): PROCESS | {SERVICE},
    ("GET", "/reporting/callbacks"): {DESK, OPS, STORE, SERVICE},
    ("GET", "/reporting/capa"): {OPS, DEPUTY, STORE, FLOOR, DEPARTMENT, SERVICE},
    ("GET", "/reporting/capa/{capa_id}"): {OPS, DEPUTY, STORE, FLOOR, DEPARTMENT, SERVICE},
    ("PATCH", "/reporting/capa/{capa_id}"): {OPS},
    ("GET", "/console/api/users"): {ADMIN},
    ("POST", "/console/api/users"): {ADMIN},
    ("GET", "/console/api/users/{username}"): {ADMIN},
    ("PATCH", "/console/api/users/{username}"): {ADMIN},
    ("PUT", "/console/api/users/{username}/password"): {ADMIN},
    ("POST", "/console/api/users/{username}/unlock"): {ADMIN},
    ("DELETE", "/console/api/users/{username}/sessions"): {ADMIN},
    ("POST", "/console/api/users/{username}/tokens"): {ADMIN},
    ("DELETE", "/console/api/users/{username}/tokens"): {ADMIN},
    ("POST", "/console/api/token"): EVERYONE,  # logging in: a name and a password, no token
    ("POST", "/console/api/service-tokens"): {ADMIN},
    ("DELETE", "/console/api/service-tokens/{name}"): {ADMIN},
}

SCOPES = {FLOOR: {"floors": ["3F"]}, DEPARTMENT: {"departments": ["security"]}}
PARAMETER = re.compile(r"\{([a-z_]+)\}")
SAMPLE_VALUES = {
    "version": "1",
    "process_key": "complaint",
    "username": "nobody",
    "code": "X1",
    "name": "x.dmn",
    "number": "TS-20000101-0001",
    "template_id": "1",
}


def _endpoints(wsgi, mounts: list[str]) -> list[tuple[str, str]]:
    client = Client(wsgi)
    found = []
    for mount in mounts:
        document = client.get(f"/{mount}/openapi.json").json
        for path, operations in document["paths"].items():
            found += [(method.upper(), f"/{mount}{path}") for method in operations if method != "parameters"]
    return sorted(found)


@pytest.fixture(scope="module")
def matrix(template_database, tmp_path_factory):
    """Every endpoint's answer to every caller, gathered once on one database."""
    with system_on_its_own_database(template_database, tmp_path_factory.mktemp("matrix"), "matrix") as (
        runtimes,
        wsgi,
        tokens,
    ):
        endpoints = _endpoints(wsgi, list(runtimes))
        client = Client(wsgi)
        answers = {
            (endpoint, caller): _call(client, tokens, *endpoint, caller)
            for endpoint in endpoints
            for caller in CALLERS
        }
        yield endpoints, answers


def _call(client: Client, tokens, method: str, path: str, caller: str) -> int:
    url = PARAMETER.sub(lambda match: SAMPLE_VALUES.get(match.group(1), str(uuid.uuid4())), path)
    headers = (
        {} if caller == ANONYMOUS else bearer(tokens, caller, subject=f"{caller}-1", **SCOPES.get(caller, {}))
    )
    body = {} if method in {"POST", "PUT", "PATCH"} else None
    return client.open(url, method=method, json=body, headers=headers).status_code


def test_every_endpoint_has_its_expected_roles_written_down(matrix):
    endpoints, _ = matrix

    assert sorted(set(endpoints) - set(EXPECTED)) == [], "add the new endpoints' expected roles to EXPECTED"
    assert sorted(set(EXPECTED) - set(endpoints)) == [], "EXPECTED names endpoints that no longer exist"


def test_every_role_is_allowed_or_refused_on_every_endpoint_as_expected(matrix):
    endpoints, answers = matrix
    wrong = []
    for endpoint in endpoints:
        for caller in CALLERS:
            status = answers[(endpoint, caller)]
            allowed = caller in EXPECTED.get(endpoint, set())
            refused = status in (401, 403)
            if allowed == refused or status >= 500:
                wrong.append((*endpoint, caller, status, "allowed" if allowed else "refused"))

    assert wrong == []
    assert len(answers) == len(endpoints) * len(CALLERS) >= 36 * 10
