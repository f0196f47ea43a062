"""The console's Flask app factory: pages (sessions, CSRF) and the user administration API."""

from __future__ import annotations

import hashlib
import hmac
import mimetypes
import sys
from pathlib import Path

from flask import Blueprint, Flask, redirect, request, send_from_directory, url_for
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_wtf.csrf import CSRFProtect
from werkzeug.exceptions import HTTPException

from services.common import dates
from services.common.db import ping
from services.common.web import create_service_app
from services.common.web.bodies import allow_larger_body
from services.common.web.proxies import behind_proxies
from services.console import i18n
from services.console.api.login import token_login
from services.console.api.users import service_tokens, users
from services.console.auth import guard, login
from services.console.auth.sessions import ServerSessions
from services.console.bootstrap import Console
from services.console.pages import PAGES, attachments, names, page_or_json_error
from services.console.pages.access import PAGE_ROLES
from services.console.pages.inbox import unread_count
from services.console.pages.modeler import LARGE_BODIES


def _bpmn_js_dist() -> Path:
    """bpmn-js's distributed bundles, installed by `npm ci` from package-lock.json: in a checkout
    beside the source tree (./dev), in the image beside the virtual environment (/app/.venv and
    /app/node_modules, deploy/Dockerfile), where the package is installed rather than run from source."""
    roots = [Path(__file__).resolve().parents[2], Path(sys.prefix).resolve().parent]
    found = [root / "node_modules" / "bpmn-js" / "dist" for root in roots]
    return next((path for path in found if path.is_dir()), found[0])


def _bundle() -> Path:
    """The console's own bundle of its diagram pages (services/console/frontend, built by esbuild into
    build/console by ./dev, or by the image's console-assets stage into /app/build/console)."""
    roots = [Path(__file__).resolve().parents[2], Path(sys.prefix).resolve().parent]
    found = [root / "build" / "console" for root in roots]
    return next((path for path in found if path.is_dir()), found[0])


BPMN_JS_DIST = _bpmn_js_dist()
BUNDLE = _bundle()
# The console's templates and its own CSS and script (the app's name is not an importable package).
ASSETS = Blueprint(
    "ui", __name__, template_folder="templates", static_folder="static", static_url_path="/assets"
)


def create_app(console: Console) -> Flask:
    """The console: /login, the pages, /api/users, /vendor/bpmn-js, /bundle, /healthz, /openapi.json."""
    settings = console.settings
    app, api = create_service_app(
        "console",
        title="Console API",
        settings=settings,
        tokens=console.tokens,
        readiness={"database": lambda: ping(console.pool)},
        description="The staff console's API: staff users, roles, scopes and service tokens (role admin).",
    )
    app.register_blueprint(ASSETS)
    app.register_error_handler(HTTPException, page_or_json_error)
    app.extensions["console"] = console
    # Flask-WTF signs its CSRF tokens with this; derived, so AUTH_SECRET stays the only secret.
    app.secret_key = hmac.new(settings.auth_secret.encode(), b"console-csrf", hashlib.sha256).hexdigest()
    app.config.update(WTF_CSRF_TIME_LIMIT=None)  # a form's token lives as long as its session
    app.session_interface = ServerSessions(console.sessions, settings.mall_id, settings.secure_cookies)
    _allow_larger_bodies(app)  # before CSRFProtect's check, which reads the body
    csrf = CSRFProtect(app)
    for blueprint in (users, service_tokens, token_login):
        csrf.exempt(blueprint)  # bearer-token API: no cookie, so nothing to forge
        api.register_blueprint(blueprint)
    limiter = Limiter(
        get_remote_address,
        app=app,
        storage_uri=settings.rate_limit_storage_url,
        default_limits=[],
        headers_enabled=True,
    )
    # One count per client address for both ways of trying a password: the form and the API's token.
    login_limit = limiter.shared_limit(settings.login_rate_limit, scope="login", methods=["POST"])
    for blueprint in (login.attempts, token_login):
        login_limit(blueprint)
    for blueprint in (login.blueprint, login.attempts):
        app.register_blueprint(blueprint)
    for blueprint in PAGES:
        app.register_blueprint(blueprint)
    _add_helpers(app)
    behind_proxies(app, settings.trusted_proxies)
    return app


def _allow_larger_bodies(app: Flask) -> None:
    @app.before_request
    def larger_body_limit():
        """A page that takes more than MAX_BODY_BYTES (the modeler's deploy) says so before the body is read."""
        limit = LARGE_BODIES.get(request.endpoint or "") or attachments.body_limits().get(
            request.endpoint or ""
        )
        if limit:
            allow_larger_body(limit)


def _add_helpers(app: Flask) -> None:
    for language in i18n.LANGUAGES:
        i18n.catalogue(language)  # read at start: a broken catalogue stops the console, not a page
    app.jinja_env.globals.update(names.HELPERS)  # globals: the imported macros see them too
    app.jinja_env.filters["clauses"] = i18n.clauses

    @app.context_processor
    def page_helpers():
        return {
            "t": i18n.translate,
            "label": i18n.label,
            "labels": i18n.labels,
            "happening": i18n.happening,
            "named": i18n.named,
            "field_label": i18n.field_label,
            "option_label": i18n.option_label,
            "when": i18n.format_datetime,
            "day": i18n.format_date,
            "is_day": i18n.is_day,
            "period_name": lambda period: dates.period_name(period, i18n.language()),
            "lang": i18n.language(),
            "user": guard.current_user(),
            "has_role": guard.has_role,
            "roles_for": PAGE_ROLES,
            "inbox_unread": unread_count,
            "role_names": i18n.role_names,
            "diagram_words": i18n.diagram_words,
            "said": i18n.said,
            "file_size": i18n.file_size,
            "attachment_limit_mb": i18n.attachment_limit_mb,
        }

    @app.get("/")
    def home():
        return redirect(guard.landing() if guard.current_user() else url_for("login.login"))

    @app.get("/vendor/bpmn-js/<path:filename>")
    def bpmn_js(filename):
        """bpmn-js's own bundles and styles, as npm installed them."""
        return send_from_directory(BPMN_JS_DIST, filename, max_age=3600)

    @app.get("/bundle/<path:filename>")
    def bundle(filename):
        """The modeler's and the diagram viewers' scripts, styles and fonts, as esbuild bundled them
        (gzip'd as built beside them, to a browser that accepts it)."""
        packed = BUNDLE / f"{filename}.gz"
        if "gzip" not in request.accept_encodings or "/" in filename or not packed.is_file():
            return send_from_directory(BUNDLE, filename, max_age=300)
        mimetype = mimetypes.guess_type(filename)[0] or "application/octet-stream"
        response = send_from_directory(BUNDLE, packed.name, max_age=300, mimetype=mimetype)
        response.headers["Content-Encoding"] = "gzip"
        response.vary.add("Accept-Encoding")
        return response
