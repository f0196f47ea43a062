"""Routing's Flask app factory."""

from __future__ import annotations

from flask import Flask

from services.common.db import ping
from services.common.web import create_service_app
from services.routing.bootstrap import Routing
from services.routing.entrypoints.http import cases, tasks
from services.routing.entrypoints.privacy import privacy
from services.routing.entrypoints.processes import processes
from services.routing.entrypoints.repairs import repairs
from services.routing.entrypoints.timers import timers


def create_app(routing: Routing) -> Flask:
    """The routing API: /processes, /tasks, /cases (and their timers), /privacy, /healthz, /readyz,
    /openapi.json."""
    app, api = create_service_app(
        "routing",
        title="Routing API",
        settings=routing.settings,
        tokens=routing.tokens,
        readiness={"database": lambda: ping(routing.pool)},
        description="Runs the complaint diagram; serves the department task queues.",
    )
    app.extensions["routing"] = routing
    app.extensions["routing.uow"] = routing.uow  # what the shared /privacy/exports reads in
    for blueprint in (processes, tasks, cases, timers, repairs, privacy):
        api.register_blueprint(blueprint)
    return app
