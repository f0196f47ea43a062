"""Intake with parts taken out, to measure upper bounds: what removing a part could gain at most.

Measurement only; nothing here is served. Each function builds intake as `services.intake.wsgi`
does and then removes something, and is passed to bench/intake.py as the app gunicorn runs:

    .venv/bin/python bench/intake.py --levels 8 --pairs 6 --app 'bench.intake_variants:light()'

- `light()`: no rate-limiter hook on staff routes and no check of the event against the consumers'
  schema before it is written (the two removable costs that change no behaviour a user sees);
- `no_counter()`: `light()`, and receipt numbers from a per-process counter instead of the day's
  counter row: numbers no longer run without gaps from 0001 each day, so this is a bound only;
- `plain_view()`: Flask and its hooks as served, but POST /complaints as a plain view without
  flask-smorest's argument and response decorators (so no webargs), marshmallow called directly;
- `bare()`: no Flask on the request path at all: the body is parsed with `json`, the token verified,
  and the request loaded with marshmallow's ComplaintIn, recorded by intake's own handler (day
  counter, event validation and all) and dumped with ComplaintOut, as a plain WSGI callable. It
  serves POST /complaints with a service-desk token and nothing else (any GET answers 200 so the
  benchmark sees it ready); no correlation id, metrics, error pages or idempotency header.
"""

from __future__ import annotations

import itertools
import json
import os

from flask import Flask, Response, request

from services.common.bus import envelope
from services.common.identity.tokens import TokenIssuer
from services.common.web.auth import authenticate
from services.intake.entrypoints import schemas
from services.intake.entrypoints.access import DESK
from services.intake.entrypoints.presenters import present
from services.intake.entrypoints.recording import record_command
from services.intake.service_layer import handlers
from services.intake.service_layer.unit_of_work import UnitOfWork
from services.intake.wsgi import create_wsgi_app


def light() -> Flask:
    handlers.dump_envelope = envelope._ENVELOPE.dump  # the payload is not validated before writing
    app = create_wsgi_app()
    for blueprint, hooks in app.before_request_funcs.items():
        app.before_request_funcs[blueprint] = [
            hook for hook in hooks if "check_request_limit" not in getattr(hook, "__qualname__", "")
        ]
    return app


def no_counter() -> Flask:
    base = (os.getpid() % 1000) * 1_000_000  # distinct numbers per worker process, not per day
    numbers = itertools.count(base + 1)
    UnitOfWork.take_number = lambda self, mall_id, day: next(numbers)
    return light()


def bare():
    bus = create_wsgi_app().extensions["intake.bus"]
    tokens = TokenIssuer(os.environ["AUTH_SECRET"])
    request_schema, response_schema = schemas.ComplaintIn(), schemas.ComplaintOut()

    def wsgi(environ, start_response):
        if environ["REQUEST_METHOD"] != "POST":
            start_response("200 OK", [("Content-Type", "application/json")])
            return [b"{}"]
        identity = tokens.verify(environ["HTTP_AUTHORIZATION"].removeprefix("Bearer "))
        if not identity.has_any(*DESK):
            start_response("403 FORBIDDEN", [("Content-Type", "application/json")])
            return [b"{}"]
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        data = request_schema.load(json.loads(body))
        recorded = bus.handle(record_command(data, identity, None, "complaints"))
        answer = json.dumps(response_schema.dump(present(recorded.complaint, identity)), ensure_ascii=False)
        out = answer.encode()
        start_response(
            "201 CREATED", [("Content-Type", "application/json"), ("Content-Length", str(len(out)))]
        )
        return [out]

    return wsgi


def plain_view() -> Flask:
    app = create_wsgi_app()
    bus = app.extensions["intake.bus"]
    request_schema, response_schema = schemas.ComplaintIn(), schemas.ComplaintOut()
    methods = app.view_functions["complaints.ComplaintCollection"]

    def view(**kwargs):
        if request.method != "POST":
            return methods(**kwargs)
        identity = authenticate()
        if not identity.has_any(*DESK):
            return Response("{}", 403, content_type="application/json")
        data = request_schema.load(request.get_json())
        recorded = bus.handle(record_command(data, identity, None, "complaints"))
        answer = json.dumps(response_schema.dump(present(recorded.complaint, identity)), ensure_ascii=False)
        return Response(answer, 201, content_type="application/json")

    app.view_functions["complaints.ComplaintCollection"] = view
    return app
