"""WSGI entry for a real server: ``gunicorn 'services.intake.wsgi:create_wsgi_app()'``.

With several worker processes, add ``-c python:services.common.observability.gunicorn`` and set
PROMETHEUS_MULTIPROC_DIR, so that /metrics sums every worker's counts.
"""

from __future__ import annotations

from flask import Flask

from services.common.logging import configure_logging
from services.common.migrations import apply_migrations
from services.common.settings import load_settings
from services.common.web.api import add_collectors
from services.intake.app import create_app
from services.intake.bootstrap import bootstrap
from services.runner.registry import spec


def create_wsgi_app() -> Flask:
    """Build intake from the environment; migrations run first when MIGRATE_ON_START is true."""
    settings = load_settings()
    configure_logging(settings.log_level, settings.log_json, service="intake")
    intake = bootstrap(settings)
    if settings.migrate_on_start:
        apply_migrations(settings.database_url, ["identity", "intake"])
    intake.pool.open(wait=True, timeout=30)
    app = create_app(intake)
    add_collectors(app, spec("intake").collectors(intake))
    return app
