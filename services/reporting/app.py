"""Reporting's Flask app factory."""

from __future__ import annotations

from flask import Flask

from services.common.db import ping
from services.common.web import create_service_app
from services.reporting.bootstrap import Reporting
from services.reporting.entrypoints.capa import capa
from services.reporting.entrypoints.reports import reports


def create_app(reporting: Reporting) -> Flask:
    """The reporting API: /reviews/daily, /reports/weekly|monthly, /callbacks, /capa, probes, /openapi.json."""
    app, api = create_service_app(
        "reporting",
        title="Reporting API",
        settings=reporting.settings,
        tokens=reporting.tokens,
        readiness={"database": lambda: ping(reporting.pool)},
        description="The managers' daily review, weekly and monthly reports, callback list and CAPA records "
        "(PROCESS.md 'Records and reports'), from a read model built from every event.",
    )
    app.extensions["reporting"] = reporting
    for blueprint in (reports, capa):
        api.register_blueprint(blueprint)
    return app
