"""The Flask app base: OpenAPI through flask-smorest, JSON errors, correlation ids, probes."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterable
from typing import ClassVar

import flask_smorest
from flask import Flask, Response, current_app, g, jsonify, request
from webargs import core
from webargs.flaskparser import FlaskParser, is_json_request
from werkzeug.exceptions import UnsupportedMediaType

from services.common.errors import NotFound, Unavailable
from services.common.identity.tokens import TokenIssuer
from services.common.logging import correlation_id, new_correlation_id
from services.common.observability.exposition import render
from services.common.observability.metrics import HTTP_REQUEST_SECONDS
from services.common.settings import Settings
from services.common.web.bodies import LimitedJSONProvider, allow_larger_body
from services.common.web.errors import ErrorSchema, register_error_handlers
from services.common.web.openapi import SchemaExtras, install

CORRELATION_HEADER = "X-Correlation-ID"
MAX_BODY_BYTES = 256 * 1024


class _Parser(FlaskParser):
    DEFAULT_VALIDATION_STATUS = 400  # a field error is a bad request, not 422
    # A misspelt query argument is an error, not silently ignored; headers stay tolerant.
    DEFAULT_UNKNOWN_BY_LOCATION: ClassVar = {
        **FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION,
        "query": None,
        "querystring": None,
    }

    def _raw_load_json(self, req):
        """A body sent as anything but JSON is refused with 415, instead of being read as no body,
        which would answer that every field is missing although the caller sent them all."""
        if not is_json_request(req) and (req.content_length or req.headers.get("Transfer-Encoding")):
            raise UnsupportedMediaType(
                f"the body must be JSON, sent with Content-Type: application/json (not {req.mimetype or 'none'})"
            )
        if not is_json_request(req):
            return core.missing
        # The app's JSON provider, not webargs' json.loads: it keeps the depth and size limits (bodies.py).
        return current_app.json.loads(req.get_data(cache=True))


class Blueprint(flask_smorest.Blueprint):
    """flask-smorest blueprint whose validation errors answer 400, and whose operations with a
    body document the 413 a body over the size limit gets (and the 415 a JSON body that is not)."""

    ARGUMENTS_PARSER = _Parser()

    def arguments(self, schema, *, location="json", **kwargs):
        parse = super().arguments(schema, location=location, **kwargs)
        if location not in BODY_LOCATIONS:
            return parse
        too_large = self.alt_response(413, response="REQUEST_ENTITY_TOO_LARGE")
        if location != "json":
            return lambda view: too_large(parse(view))
        not_json = self.alt_response(415, response="UNSUPPORTED_MEDIA_TYPE")
        return lambda view: not_json(too_large(parse(view)))


BODY_LOCATIONS = frozenset({"json", "form", "files", "json_or_form"})


def body_limit(max_bytes: int) -> Callable:
    """Let one view take a larger body than the app's MAX_BODY_BYTES (a deployed diagram is one)."""

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def limited(*args, **kwargs):
            allow_larger_body(max_bytes)
            return view(*args, **kwargs)

        return limited

    return decorate


class _Api(flask_smorest.Api):
    ERROR_SCHEMA = ErrorSchema
    # No catch-all `default` response, which would document every status: each operation lists the
    # errors it answers (400 from its arguments, 401/403 from require_roles, the rest by alt_response).
    DEFAULT_ERROR_RESPONSE_NAME = None

    def _register_error_handlers(self):
        register_error_handlers(self._app)


ReadinessCheck = Callable[[], None]


def create_service_app(
    name: str,
    title: str,
    settings: Settings,
    tokens: TokenIssuer,
    readiness: dict[str, ReadinessCheck],
    description: str = "",
) -> tuple[Flask, flask_smorest.Api]:
    """A Flask app with its OpenAPI document at /openapi.json and docs at /docs."""
    app = Flask(name)
    app.json = LimitedJSONProvider(app)
    app.config.update(
        API_TITLE=title,
        API_VERSION="1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH=None,
        MAX_CONTENT_LENGTH=MAX_BODY_BYTES,
        JSON_SORT_KEYS=False,
        API_SPEC_OPTIONS={
            "info": {"description": description},
            "security": [{"bearerAuth": []}],
            "components": {
                "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}
            },
        },
    )
    app.json.ensure_ascii = False
    app.json.sort_keys = False
    app.extensions["mall.settings"] = settings
    app.extensions["mall.tokens"] = tokens
    app.extensions["mall.collectors"] = []  # scrape-time collectors; see add_collectors
    api = _Api(app, spec_kwargs={"extra_plugins": [SchemaExtras()]})
    install(api)
    _add_correlation(app)
    _add_request_metrics(app, name)
    _refuse_nul_in_paths(app)
    app.extensions["mall.readiness"] = dict(readiness)  # see add_readiness
    app.extensions["mall.liveness"] = dict  # see add_liveness
    _add_probes(app)
    return app, api


def add_collectors(app: Flask, collectors: Iterable) -> None:
    """Scrape-time collectors (outbox backlog, queue depth …) this app's /metrics also reports."""
    app.extensions["mall.collectors"].extend(collectors)


def add_readiness(app: Flask, checks: dict[str, ReadinessCheck]) -> None:
    """More checks for /readyz: a process serving its API with workers in threads is ready only
    once they are connected too (a consumer that has not declared its queue yet would miss events)."""
    app.extensions["mall.readiness"].update(checks)


def add_liveness(app: Flask, threads: Callable[[], dict[str, str]]) -> None:
    """/healthz says what `threads` says of the workers this process runs beside its API (the
    relay of an API served with --no-workers): one that died fails liveness, so the container is
    restarted, rather than the API answering while its events stay in the outbox."""
    app.extensions["mall.liveness"] = threads


def probe_answer(checks: dict[str, str], good: str, bad: str):
    """A probe's answer: `good` (200) when every check says ok, else `bad` (503), each check named."""
    fine = all(state == "ok" for state in checks.values())
    return jsonify(
        {"status": good if fine else bad, **({"checks": checks} if checks else {})}
    ), 200 if fine else 503


def _add_request_metrics(app: Flask, service: str) -> None:
    @app.before_request
    def start_timer():
        g.request_started = time.perf_counter()

    @app.after_request
    def observe_latency(response):
        started = g.pop("request_started", None)
        if started is not None:
            # The route's rule (`/tasks/<task_id>`), never the URL: one series per route, not per id.
            route = request.url_rule.rule if request.url_rule else "unmatched"
            labels = (service, request.method, route, str(response.status_code))
            HTTP_REQUEST_SECONDS.labels(*labels).observe(time.perf_counter() - started)
        return response


def _refuse_nul_in_paths(app: Flask) -> None:
    """A name in an address (`/processes/<process>/…`, `/users/<username>`) is looked up in
    PostgreSQL, whose text holds no NUL: `%00` in one names nothing there, so it is a 404 at once,
    not a database error (500) in whichever route reads it."""

    @app.before_request
    def refuse_nul():
        if "\x00" in request.path:
            raise NotFound("no such address: it holds a NUL character (U+0000)")


def _add_correlation(app: Flask) -> None:
    @app.before_request
    def bind_correlation_id():
        incoming = request.headers.get(CORRELATION_HEADER, "")
        value = incoming if 8 <= len(incoming) <= 64 and incoming.isprintable() else new_correlation_id()
        g.correlation_token = correlation_id.set(value)

    @app.after_request
    def echo_correlation_id(response):
        response.headers[CORRELATION_HEADER] = correlation_id.get() or ""
        return response

    @app.teardown_request
    def unbind_correlation_id(_error):
        token = g.pop("correlation_token", None)
        if token is not None:
            correlation_id.reset(token)


def _add_probes(app: Flask) -> None:
    @app.get("/healthz")
    def healthz():
        """Liveness: the process answers, and the workers it runs beside its API still run."""
        return probe_answer(app.extensions["mall.liveness"](), "ok", "not ok")

    @app.get("/metrics")
    def metrics():
        """Prometheus metrics of this process and the service's scrape-time gauges."""
        body, content_type = render(app.extensions["mall.collectors"])
        return Response(body, content_type=content_type)

    @app.get("/readyz")
    def readyz():
        """Readiness: every backing server this service needs answers."""
        checks = {}
        for check_name, check in app.extensions["mall.readiness"].items():
            try:
                check()
                checks[check_name] = "ok"
            except Unavailable as exc:
                checks[check_name] = str(exc)
        return probe_answer(checks, "ready", "not ready")
