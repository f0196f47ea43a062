"""Intake's Flask app factory."""

from __future__ import annotations

from flask import Flask, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from services.common.db import ping
from services.common.web import create_service_app
from services.common.web.proxies import behind_proxies
from services.intake.bootstrap import Intake
from services.intake.entrypoints import form, schemas
from services.intake.entrypoints.attachments import attachments
from services.intake.entrypoints.complaints import complaints
from services.intake.entrypoints.email_drafts import email_drafts
from services.intake.entrypoints.privacy import privacy
from services.intake.entrypoints.public import public
from services.intake.entrypoints.reference import reference


def create_app(intake: Intake) -> Flask:
    """The intake API: /complaints (and their attachments), /public, /reference, /privacy,
    /email-drafts, /healthz, /readyz, /openapi.json."""
    app, api = create_service_app(
        "intake",
        title="Intake API",
        settings=intake.settings,
        tokens=intake.tokens,
        readiness={"database": lambda: ping(intake.pool)},
        description="Records complaints from every channel (PROCESS.md 'A complaint').",
    )
    app.extensions["intake.bus"] = intake.bus
    app.extensions["intake.uow"] = intake.uow
    limiter = Limiter(
        get_remote_address,
        app=app,
        storage_uri=intake.settings.rate_limit_storage_url,
        default_limits=[],
        headers_enabled=True,
    )
    limiter.limit(intake.settings.public_rate_limit, methods=["POST"])(public)
    # Only the public form is limited; staff routes are authenticated. A request filter answers
    # before the limiter resolves any route's limits, which `limiter.exempt` would still do on
    # every staff request (~0.1 ms of CPU each).
    limiter.request_filter(lambda: request.blueprint != public.name)
    api.register_field(schemas.Money, "string", "decimal")
    for blueprint in (complaints, attachments, public, reference, privacy, email_drafts):
        api.register_blueprint(blueprint)
    app.register_blueprint(form.blueprint)
    behind_proxies(app, intake.settings.trusted_proxies)
    return app
