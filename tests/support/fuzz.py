"""What every schemathesis run over a service's OpenAPI document shares (tests/e2e/test_*_fuzz.py).

Checks: schemathesis's defaults, all on, except the two CONFIG turns off (see
tests/e2e/test_openapi_fuzz.py's docstring for why). Deterministic: a fixed seed, no example
database, at most MAX_EXAMPLES fuzzed cases per operation on top of schemathesis's coverage cases.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import schemathesis
from hypothesis import strategies as st

MAX_EXAMPLES = 40
CONFIG = {
    "seed": 20261122,
    "generation": {"max-examples": MAX_EXAMPLES, "database": "none"},
    "checks": {
        "positive_data_acceptance": {"enabled": False},
        "negative_data_rejection": {"enabled": False},
    },
}


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
    something the running test created, offered for half the generated values."""

    app: AppUnderTest
    schema: schemathesis.schemas.BaseSchema
    known: dict[str, object] = field(default_factory=dict)


def fuzzed_service(create_app, bootstrap) -> Fuzzed:
    """`fuzzed` over a service's app built by its `bootstrap` and `create_app` on settings that
    name no reachable database: the app only serves its document until a test swaps in its own."""
    from services.common.settings import load_settings
    from tests.conftest import MALL, SECRET

    settings = load_settings(
        {}, database_url="postgresql://unused", amqp_url="memory://", auth_secret=SECRET, mall_id=MALL
    )
    return fuzzed(create_app(bootstrap(settings)))


def fuzzed(document_app) -> Fuzzed:
    """A schema read from `document_app`'s /openapi.json (an app whose pool is never opened),
    calling whichever app a test then puts in `.app.app`."""
    app = AppUnderTest(document_app)
    schema = schemathesis.openapi.from_wsgi(
        "/openapi.json", app, config=schemathesis.Config.from_dict(CONFIG)
    )
    run = Fuzzed(app, schema)

    @schema.hook
    def flatmap_path_parameters(context, path_parameters):
        """Half the generated path parameters name a row the test made, so 200 bodies are checked too."""
        known = {name: run.known[name] for name in path_parameters or {} if name in run.known}
        if not known:
            return st.just(path_parameters)
        return st.sampled_from([path_parameters, {**path_parameters, **known}])

    return run
