"""Bad bodies on every write endpoint of every service: never a 5xx, always a JSON error that says why.

The endpoints (every POST, PUT and PATCH) come from each mounted service's OpenAPI document, so a
new route is covered when it is merged. Each gets, as a caller holding every role and a scope:
a body that is not JSON, JSON cut off half-way, JSON of the wrong top-level type (a list, a string,
a number, null), a JSON body with the wrong Content-Type, a body over 4 MB, and JSON nested
thousands of levels deep (which Python's parser cannot read at all). An operation that documents a
request body must refuse each with a 4xx JSON error naming the problem; one that takes no body may
ignore it, but must not fail.

Then the JSON limits (services/common/jsonlimits.py), on each operation where a deep body once
answered 500: nesting, an array, a member name and a string over their limit, inside a body that is
otherwise right, answer 400 naming the place; at the limits, the body is read.
"""

from __future__ import annotations

import json
import uuid

import pytest
from werkzeug.test import Client

from services.common import jsonlimits
from services.common.identity.model import ROLES
from services.routing.entrypoints.processes import DEPLOY_BODY_BYTES
from tests.conftest import bearer
from tests.integration.test_authorisation_matrix import PARAMETER, SAMPLE_VALUES
from tests.support.system import system_on_its_own_database

WRITES = {"post", "put", "patch"}
# Over the largest limit of all (a deployed diagram's 4 MB); the others stop at 256 KB.
OVERSIZED = b'{"description": "' + b"x" * (DEPLOY_BODY_BYTES + 1024) + b'"}'
BAD_BODIES = {  # name -> (body, Content-Type, what the error message must mention)
    "not JSON": (b"this is not json", "application/json", "json"),
    "truncated JSON": (b'{"category": "quality", "description": "cut', "application/json", "json"),
    "a list": (b"[1, 2, 3]", "application/json", ""),
    "a string": (b'"complaint"', "application/json", ""),
    "a number": (b"42", "application/json", ""),
    "null": (b"null", "application/json", ""),
    "wrong Content-Type": (b'{"a": 1}', "text/plain", "content-type: application/json"),
    "over 4 MB": (OVERSIZED, "application/json", "limit"),
    "arrays 2,000 deep": (b"[" * 2000 + b"]" * 2000, "application/json", "nested"),
    "objects 5,000 deep": (b'{"a":' * 5000 + b"1" + b"}" * 5000, "application/json", "nested"),
}
STATUS = {"wrong Content-Type": 415, "over 4 MB": 413}  # the others: any 4xx with a JSON error


@pytest.fixture(scope="module")
def system(template_database, tmp_path_factory):
    """The one-process system on a database of this module's own, and every write endpoint in it."""
    with system_on_its_own_database(template_database, tmp_path_factory.mktemp("bodies"), "bodies") as (
        runtimes,
        wsgi,
        tokens,
    ):
        client = Client(wsgi)
        everyone = bearer(tokens, *ROLES, floors=["3F"], departments=["security"], subject="abuser")
        yield client, everyone, write_operations(client, list(runtimes))


def write_operations(client: Client, mounts: list[str]) -> list[tuple[str, str, bool]]:
    """(method, path with sample parameters, whether it documents a JSON body) of every write."""
    found = []
    for mount in mounts:
        document = client.get(f"/{mount}/openapi.json").json
        for path, operations in document["paths"].items():
            url = PARAMETER.sub(lambda match: SAMPLE_VALUES.get(match.group(1), str(uuid.uuid4())), path)
            for method, operation in operations.items():
                if method in WRITES:
                    takes_json = "application/json" in operation.get("requestBody", {}).get("content", {})
                    found.append((method.upper(), f"/{mount}{url}", takes_json))
    return sorted(found)


def test_the_write_endpoints_are_found_in_every_services_document(system):
    _, _, operations = system
    mounts = {path.split("/")[1] for _, path, _ in operations}

    assert mounts >= {"intake", "routing", "notify", "reporting", "console"}
    assert sum(takes_json for *_, takes_json in operations) >= 10


@pytest.mark.parametrize("bad", sorted(BAD_BODIES))
def test_every_write_endpoint_refuses_a_bad_body_with_a_json_error_naming_it(system, bad):
    client, everyone, operations = system
    body, content_type, mentions = BAD_BODIES[bad]
    wrong = []
    for method, path, takes_json in operations:
        answer = client.open(
            path, method=method, data=body, headers={**everyone, "Content-Type": content_type}
        )
        error = _json(answer)
        if answer.status_code >= 500 or error is None:
            wrong.append((method, path, answer.status_code, answer.get_data(as_text=True)[:200]))
        elif takes_json and not (
            400 <= answer.status_code < 500
            and mentions in error.get("message", "").lower()
            and error.get("code") == answer.status_code
            and answer.status_code == STATUS.get(bad, answer.status_code)
        ):
            wrong.append((method, path, answer.status_code, error))

    assert wrong == []


def _json(answer) -> dict | None:
    try:
        body = json.loads(answer.get_data())
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


LIMITS = jsonlimits.DEFAULT
# Where 2,000 levels of `[` answered 500 (a RecursionError), each with a field its body may hold
# anything in (or a text field, where there is none).
DEEP_ONCE = {
    "POST /intake/public/complaints": "description",
    "POST /intake/complaints": "description",
    "PATCH /intake/complaints/{id}": "description",
    "POST /routing/tasks/{id}/complete": "data",
    "POST /routing/processes": "dmn",
    "PATCH /reporting/capa/{id}": "note",
    "POST /console/api/users": "display_name",
}


def nested(levels: int) -> str:
    """JSON text of arrays `levels` deep (json.dumps itself cannot write 2,000)."""
    return "[" * levels + "]" * levels


def members(count: int) -> str:
    return json.dumps({f"k{n}": 1 for n in range(count)})


# name -> (the field's value as JSON, whether the error names the field or the whole body, what it says)
OVER_THE_LIMITS = {
    "nested 2,000 deep in a field": (nested(2000), False, "nested more than 32 levels deep"),
    "nested one level too deep": (nested(LIMITS.depth), False, "nested more than 32 levels deep"),
    "an array of 1,001 items": (json.dumps(["x"] * (LIMITS.items + 1)), True, "more than 1000 items"),
    "an object of 1,001 members": (members(LIMITS.items + 1), True, "more than 1000 members"),
    "a string of 20,001 characters": (
        json.dumps("长" * (LIMITS.chars + 1)),
        True,
        "longer than 20000 characters",
    ),
    "a member name of 20,001 characters": (
        json.dumps({"k" * (LIMITS.chars + 1): 1}),
        True,
        "member name longer",
    ),
}
# A deployed diagram's strings may be as long as its body (4 MB): over that, the body is a 413.
LONG_STRINGS = {"a string of 20,001 characters", "a member name of 20,001 characters"}
CASES = [
    (operation, over)
    for operation in DEEP_ONCE
    for over in OVER_THE_LIMITS
    if not (operation == "POST /routing/processes" and over in LONG_STRINGS)
]


@pytest.mark.parametrize(("operation", "over"), CASES)
def test_json_over_a_limit_answers_400_naming_where(system, operation, over):
    client, everyone, _ = system
    method, path = operation.split()
    field = DEEP_ONCE[operation]
    value, names_the_field, says = OVER_THE_LIMITS[over]

    body = f'{{"{field}": {value}}}'.encode()

    answer = client.open(
        path.replace("{id}", str(uuid.uuid4())),
        method=method,
        data=body,
        headers={**everyone, "Content-Type": "application/json"},
    )

    assert answer.status_code == 400, answer.get_data(as_text=True)[:300]
    assert answer.json["code"] == 400 and says in answer.json["message"]
    where = field if names_the_field else "_schema"
    assert says in answer.json["errors"]["json"][where][0]


def test_json_at_the_limits_is_read_and_judged_by_the_schema_as_any_other(system):
    client, everyone, _ = system
    at_the_limits = {
        "description": json.loads(nested(LIMITS.depth - 1)),
        "customer_request": ["x"] * LIMITS.items,
        "category": "长" * LIMITS.chars,
    }

    answer = client.post("/intake/complaints", json=at_the_limits, headers=everyone)

    assert answer.status_code == 400
    fields = answer.json["errors"]["json"]
    assert {"description", "customer_request", "category"} <= set(fields) and "_schema" not in fields
