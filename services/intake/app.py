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
from services.intake.entrypoints.finding import finding
from services.intake.entrypoints.privacy import privacy
from services.intake.entrypoints.public import public
from services.intake.entrypoints.reference import reference
from services.intake.entrypoints.reply_templates import reply_templates
from services.intake.entrypoints.status import keep_retry_after, status_api, status_page


def create_app(intake: Intake) -> Flask:
    """The intake API: /complaints (and their attachments), /public, /status (the customers' page),
    /reference, /reply-templates, /privacy, /email-drafts, /healthz, /readyz, /openapi.json."""
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
    app.extensions["intake.runtime"] = intake
    app.after_request(keep_retry_after)  # before the limiter's: after-request hooks run last-registered first
    limiter = Limiter(
        get_remote_address,
        app=app,
        storage_uri=intake.settings.rate_limit_storage_url,
        default_limits=[],
        headers_enabled=True,
    )
    limiter.limit(intake.settings.public_rate_limit, methods=["POST"])(public)
    # One count per client address for both ways of looking a complaint up: the page and its JSON.
    status_limit = limiter.shared_limit(intake.settings.status_rate_limit, scope="status", methods=["POST"])
    for blueprint in (status_api, status_page):
        status_limit(blueprint)
    # Only the public form and the status page are limited; staff routes are authenticated. A request
    # filter answers before the limiter resolves any route's limits, which `limiter.exempt` would
    # still do on every staff request (~0.1 ms of CPU each).
    limited = {public.name, status_api.name, status_page.name}
    limiter.request_filter(lambda: request.blueprint not in limited)
    api.register_field(schemas.Money, "string", "decimal")
    for blueprint in (
        complaints,
        attachments,
        finding,
        public,
        status_api,
        reference,
        reply_templates,
        privacy,
        email_drafts,
    ):
        api.register_blueprint(blueprint)
    app.register_blueprint(form.blueprint)
    app.register_blueprint(status_page)
    behind_proxies(app, intake.settings.trusted_proxies)
    return app
