"""Notify's Flask app factory."""

from __future__ import annotations

from flask import Flask

from services.common.db import ping
from services.common.web import create_service_app
from services.notify.bootstrap import Notify
from services.notify.entrypoints.deliveries import deliveries
from services.notify.entrypoints.inbox import inbox
from services.notify.entrypoints.privacy import privacy


def create_app(notify: Notify) -> Flask:
    """The notify API: /inbox, /complaints/{id}/deliveries, /deliveries, /privacy, /healthz, /readyz,
    /openapi.json."""
    app, api = create_service_app(
        "notify",
        title="Notify API",
        settings=notify.settings,
        tokens=notify.tokens,
        readiness={"database": lambda: ping(notify.pool)},
        description="Delivers messages to customers, merchants and staff; the staff inbox; the delivery log.",
    )
    app.extensions["notify"] = notify
    app.extensions["notify.uow"] = notify.uow
    for blueprint in (inbox, deliveries, privacy):
        api.register_blueprint(blueprint)
    return app
