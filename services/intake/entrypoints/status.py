"""The customers' status page: no login, limited per client address, slower after repeated misses.

`POST /public/status` answers JSON; `/status` is the page a phone opens from the receipt's link,
the acknowledgement message or the web form's thank-you, posting the same lookup as a plain form.
"""

from __future__ import annotations

import math

from flask import Blueprint as PageBlueprint
from flask import current_app, g, render_template, request
from flask_smorest import abort

from services.common import i18n as vocabulary
from services.common.errors import NotFound
from services.common.web import Blueprint
from services.intake.adapters.misses import MissPolicy
from services.intake.entrypoints import schemas
from services.intake.service_layer.status import SlowDown, look_up

status_api = Blueprint(
    "status_api",
    __name__,
    url_prefix="/public",
    description="The customers' status page: a complaint's status by its number and the customer's phone"
    " (last four digits) or e-mail; no login, rate-limited.",
)
status_page = PageBlueprint("status_page", __name__, template_folder="templates")


def words(language: str) -> dict[str, str]:
    """The page's words: the catalogue's `status_page` entries (services/common/i18n)."""
    return vocabulary.terms("status_page", language)


def _find(number: str, contact: str, language: str) -> dict:
    runtime = current_app.extensions["intake.runtime"]
    found = look_up(
        runtime.uow(),
        runtime.settings.mall_id,
        number,
        contact,
        request.remote_addr or "unknown",
        runtime.clock.now(),
        MissPolicy(),
        runtime.settings.zone,
    )
    return found.words(language)


@status_api.route("/status", methods=["POST"])
@status_api.arguments(schemas.StatusLookupIn())
@status_api.response(200, schemas.StatusOut)
@status_api.alt_response(404, response="NOT_FOUND")
@status_api.alt_response(429, response="TOO_MANY_REQUESTS")
@status_api.doc(security=[])
def post_status(data):
    """A complaint's status, promised reply date and next step, for its customer; never personal data.
    A wrong number and a wrong phone or e-mail answer the same 404."""
    try:
        return _find(data["number"], data["contact"], data["lang"])
    except NotFound:
        abort(404, message=vocabulary.term("status_page", "not_found"))
    except SlowDown as slow:
        left = (slow.until - current_app.extensions["intake.runtime"].clock.now()).total_seconds()
        wait = max(1, math.ceil(left))  # rounded up: a retry after the seconds said is never still too early
        g.retry_after = wait  # kept as said: see keep_retry_after
        abort(429, message=vocabulary.term("status_page", "slow_down"), headers={"Retry-After": str(wait)})


def keep_retry_after(response):
    """After the rate limiter's own headers: a slowed-down lookup's Retry-After as the view said it.
    Flask-Limiter writes the header again from the wall clock, truncating (60 s could read 59, and a
    customer retrying then would still be too early); registered before the limiter, so it runs after."""
    wait = g.pop("retry_after", None)
    if wait is not None:
        response.headers["Retry-After"] = str(wait)
    return response


@status_page.route("/status", methods=["GET", "POST"])
def status():
    """The status page, in Chinese unless ?lang=en; the number is filled in from the receipt's link."""
    language = "en" if request.values.get("lang") == "en" else "zh-CN"
    text = words(language)
    number = request.values.get("number", "").strip()[:40]
    page = {"t": text, "lang": language, "other": "zh-CN" if language == "en" else "en", "number": number}
    if request.method == "GET":
        return render_template("status.html", **page)
    contact = request.form.get("contact", "").strip()[:254]
    if not number or len(contact) < 4:
        return render_template("status.html", **page, error=text["missing"]), 400
    try:
        return render_template("status.html", **page, found=_find(number, contact, language))
    except NotFound:
        return render_template("status.html", **page, error=text["not_found"]), 404
    except SlowDown:
        return render_template("status.html", **page, error=text["slow_down"]), 429
