"""The console's pages: one blueprint per area, errors shown as pages in the user's language."""

from __future__ import annotations

import logging
import re

from flask import Blueprint, jsonify, redirect, render_template, request, session, url_for
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from services.common import i18n as messages
from services.common.errors import (
    ConfigurationError,
    Conflict,
    Forbidden,
    NotFound,
    ServiceError,
    Unauthorized,
    Unavailable,
)
from services.console.i18n import LANGUAGES, language, translate

log = logging.getLogger(__name__)


def html_errors(blueprint: Blueprint) -> Blueprint:
    """A refusal or failure inside the blueprint's pages becomes a page (JSON to a JSON request)."""

    @blueprint.errorhandler(Unauthorized)
    def unauthorized(_error):
        return redirect(url_for("login.login", next=request.script_root + request.full_path.rstrip("?")))

    @blueprint.errorhandler(ServiceError)
    def service_error(error):
        status = {
            Forbidden: 403,
            NotFound: 404,
            Conflict: 409,
            Unavailable: 503,
            ConfigurationError: 500,
        }.get(type(error), 400)
        return _error_page(status, str(error))

    @blueprint.errorhandler(CSRFError)
    def csrf_error(error):
        return _error_page(400, error.description)

    @blueprint.errorhandler(HTTPException)
    def http_error(error):
        if error.code == 429:  # Flask-Limiter describes only its limit ("10 per 1 minute")
            return _error_page(429, f"too many requests ({error.description}); try again later")
        return _error_page(error.code, error.description)

    return blueprint


# The statuses the error page has words of its own for (error.<status>); any other reads as 500's.
_STATUS_WORDS = (400, 403, 404, 409, 429, 503)

# A word of English in a message (a complaint's number, TS-…, a size in KB or a record's id is not one).
_ENGLISH_WORD = re.compile(r"[A-Za-z]{3,}")

# A record's id in a service's message ("找不到投诉 02b80a51-…"): nothing a member of staff can read.
_RECORD_ID = re.compile(r"\s*[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE)


def _error_page(status: int, message: str):
    """The error page; as JSON to a JSON request (the modeler's deploy reads its answer as JSON).
    A form refused because its record is gone or has changed meanwhile goes to the page by a
    redirect, so that reloading it posts nothing again (a refused login or token stays put: sent
    again it is refused again)."""
    kind = status if status in _STATUS_WORDS else 500
    said = messages.translated(message or "", language())
    if said is None and not _ENGLISH_WORD.search(_RECORD_ID.sub("", message or "")):
        said = message  # a service that answered in the reader's language already
    elif said is None:  # no wording in the catalogue: the page's own words say what happened
        log.warning("a service's message has no %s wording (status %s): %s", language(), status, message)
        said = ""
    if request.is_json:
        return jsonify({"error": said or translate(f"error.{kind}"), "code": status}), status
    readable = _RECORD_ID.sub("", said).strip(" ：:")
    if request.method == "POST" and status in (404, 409):
        session["problem"] = {"status": status, "message": readable}
        return redirect(url_for("prefs.problem"))
    return render_template("error.html", status=status, message=readable), status


def page_or_json_error(error: HTTPException):
    """Outside the pages' blueprints (an unknown address under /console): a page in the reader's
    language for a browser, the services' JSON error for an API caller."""
    from services.common.web.errors import http_exception_response

    if request.path.startswith(("/console/api", "/api")) or not request.accept_mimetypes.accept_html:
        return http_exception_response(error)
    return _error_page(error.code or 500, error.description)


prefs = html_errors(Blueprint("prefs", __name__))


@prefs.get("/problem")
def problem():
    """What went wrong with the last form sent (see `_error_page`); nothing to show: the queue."""
    shown = session.get("problem")
    if not shown:
        return redirect(url_for("queue.queue"))
    return render_template("error.html", **shown), shown["status"]


@prefs.get("/lang/<code>")
def switch_language(code):
    """Switch between zh-CN and English; back to the page it was asked from."""
    if code in LANGUAGES:
        session["lang"] = code
    back = request.referrer or url_for("queue.queue")
    return redirect(back if back.startswith(request.host_url) else url_for("queue.queue"))


def _pages() -> list[Blueprint]:
    from services.console.pages import (
        admin,
        attachments,
        capa,
        cases,
        desk,
        emails,
        inbox,
        modeler,
        privacy,
        processes,
        queue,
        related,
        repairs,
        reports,
        templates,
    )

    return [
        prefs,
        desk.blueprint,
        queue.blueprint,
        cases.blueprint,
        processes.blueprint,
        modeler.blueprint,
        repairs.blueprint,
        admin.blueprint,
        privacy.blueprint,
        reports.blueprint,
        capa.blueprint,
        inbox.blueprint,
        attachments.blueprint,
        templates.blueprint,
        emails.blueprint,
        related.blueprint,
    ]


PAGES = _pages()
