"""What every schemathesis run over a service's OpenAPI document shares (tests/e2e/test_*_fuzz.py).

Checks: all of schemathesis's, on, positive_data_acceptance and negative_data_rejection included.
A schema-valid request must be accepted (or answer 401/403/404/409/429), a schema-violating one
refused, so the document says what each operation truly accepts. The only room left is `Allowed`:
a schema-valid request one operation may answer 400 for, naming the fields of a rule the document
cannot state (a cursor must be one the API issued, a merchant must be on a floor the mall has);
each is listed, with its reason, in docs/security.md. Any other 400 to a schema-valid request fails.

The caller's token is sent by the test, not generated: security parameters are not fuzzed (the
check ignored_auth sends each request without the token and expects 401).

Deterministic: a fixed seed, no example database, at most MAX_EXAMPLES fuzzed cases per operation
on top of schemathesis's coverage cases.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field

import schemathesis
from hypothesis import strategies as st
from schemathesis.specs.openapi.checks import positive_data_acceptance

MAX_EXAMPLES = 40
CONFIG = {
    "seed": 20261122,
    "generation": {"max-examples": MAX_EXAMPLES, "database": "none", "with-security-parameters": False},
    # Schemathesis's refusals, and 413: a body over the size limit is refused before it is read.
    "checks": {
        "negative_data_rejection": {
            "expected-statuses": [
                "400",
                "401",
                "403",
                "404",
                "405",
                "406",
                "409",
                "413",
                "415",
                "422",
                "428",
                "429",
                "5xx",
            ]
        }
    },
}
POSITIVE_DATA_ACCEPTANCE = positive_data_acceptance


@dataclass(frozen=True)
class Allowed:
    """A schema-valid request `operation` ("GET /complaints") may answer 400 for, when the error
    names only `fields` ("query.cursor", "json.floor"; "json.*" for any field of the body): a rule
    the document cannot state."""

    operation: str
    fields: frozenset[str]
    reason: str

    def __init__(self, operation: str, fields, reason: str):
        object.__setattr__(self, "operation", operation)
        object.__setattr__(self, "fields", frozenset(fields))
        object.__setattr__(self, "reason", reason)

    def covers(self, case, response) -> bool:
        if f"{case.method.upper()} {case.path}" != self.operation or response.status_code != 400:
            return False
        try:
            named = set(_field_paths(response.json().get("errors") or {}))
        except (ValueError, AttributeError):
            return False
        return bool(named) and all(self._names(path) for path in named)

    def _names(self, path: str) -> bool:
        """`path` is one of `fields`, or under one that ends in `.*` ("json.*": any field of the body)."""
        return path in self.fields or any(
            name.endswith(".*") and path.startswith(name[:-1]) for name in self.fields
        )


def _field_paths(errors: dict, prefix: str = ""):
    """`{"json": {"customer": {"phone": [...]}}}` -> "json.customer.phone"."""
    for name, found in errors.items():
        if isinstance(found, dict):
            yield from _field_paths(found, f"{prefix}{name}.")
        else:
            yield f"{prefix}{name}"


class AppUnderTest:
    """WSGI app that forwards to the app of the test running now.

    Schemathesis needs the document and an app when a module is collected, but the app under
    test needs a database of its test's own. (Its lazy `from_fixture` loader would wait for the
    fixture, but it sets `Node._nodeid`, which pytest 9 no longer has.)
    """

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        return self.app(environ, start_response)


@dataclass
class Fuzzed:
    """The app schemathesis calls, its schema, and `known`: path parameter -> a value naming
    something the running test created, offered for half the schema-valid generated values."""

    app: AppUnderTest
    schema: schemathesis.schemas.BaseSchema
    known: dict[str, object] = field(default_factory=dict)
    allowed: tuple[Allowed, ...] = ()

    def call_and_validate(self, case, headers: dict) -> None:
        """Send `case` with `headers` and run every check on the answer; positive_data_acceptance
        is left out only for an answer one of `allowed` covers."""
        response = case.call(headers=headers)
        positive = case.meta is not None and case.meta.generation.mode.is_positive
        allowed = [a for a in self.allowed if positive and a.covers(case, response)]
        excluded = [POSITIVE_DATA_ACCEPTANCE] if allowed else []
        _tally(case, response, positive, allowed)
        case.validate_response(
            response, headers=headers, excluded_checks=excluded, transport_kwargs={"headers": headers}
        )


def _tally(case, response, positive: bool, allowed: list) -> None:
    """With FUZZ_TALLY=<file>, one JSON line per request sent (docs/security.md's figures come from it)."""
    if path := os.environ.get("FUZZ_TALLY"):
        line = {
            "operation": f"{case.method.upper()} {case.path}",
            "positive": positive,
            "status": response.status_code,
            "allowed": bool(allowed),
        }
        with open(path, "a", encoding="utf-8") as tally:
            tally.write(json.dumps(line) + "\n")


def fuzzed_service(create_app, bootstrap, allowed=()) -> Fuzzed:
    """`fuzzed` over a service's app built by its `bootstrap` and `create_app` on settings that
    name no reachable database: the app only serves its document until a test swaps in its own."""
    from services.common.settings import load_settings
    from tests.conftest import MALL, SECRET

    settings = load_settings(
        {}, database_url="postgresql://unused", amqp_url="memory://", auth_secret=SECRET, mall_id=MALL
    )
    return fuzzed(create_app(bootstrap(settings)), allowed)


def fuzzed(document_app, allowed=()) -> Fuzzed:
    """A schema read from `document_app`'s /openapi.json (an app whose pool is never opened),
    calling whichever app a test then puts in `.app.app`."""
    app = AppUnderTest(document_app)
    schema = schemathesis.openapi.from_wsgi(
        "/openapi.json", app, config=schemathesis.Config.from_dict(CONFIG)
    )
    run = Fuzzed(app, schema, allowed=tuple(allowed))

    @schema.hook
    def flatmap_path_parameters(context, path_parameters):
        """Half the schema-valid path parameters name a row the test made, so 200 bodies are checked
        too; schema-violating ones are left as generated, or the request would no longer violate."""
        known = {name: run.known[name] for name in path_parameters or {} if name in run.known}
        declared = {parameter.name: parameter for parameter in context.operation.path_parameters}
        valid = all(
            declared[name].is_valid(value)
            for name, value in (path_parameters or {}).items()
            if name in declared
        )
        if not known or not valid:
            return st.just(path_parameters)
        return st.sampled_from([path_parameters, {**path_parameters, **known}])

    @schema.hook
    def flatmap_query(context, query):
        """Half the schema-valid queries with a made-up cursor go without it, so the filters beside it
        are answered with a page too (a cursor must be one the API issued: an excused 400 otherwise)."""
        if not query or "cursor" not in query:
            return st.just(query)
        declared = {parameter.name: parameter for parameter in context.operation.query}
        if not all(declared[name].is_valid(value) for name, value in query.items() if name in declared):
            return st.just(query)
        return st.sampled_from([query, {name: value for name, value in query.items() if name != "cursor"}])

    return run
