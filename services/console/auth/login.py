"""Login and logout pages."""

from __future__ import annotations

import logging
import re

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for

from services.common.identity.login import LoginRefused
from services.console.auth.guard import console, landing
from services.console.i18n import format_datetime
from services.console.metrics import LOGINS
from services.console.pages import html_errors

log = logging.getLogger(__name__)
# A page of this site as the guard writes it into `next` (percent-encoded): no space, control
# character or backslash, which browsers drop or read as `/` (`/\t/evil` is `//evil`, another host).
_SITE_PATH = re.compile(r"/(?![/\\])[^\x00-\x20\x7f\\]*")

blueprint = html_errors(Blueprint("login", __name__))
# The password check has its own blueprint, so the login rate limit applies to it alone.
attempts = html_errors(Blueprint("login_attempts", __name__))


def _safe_next(target: str | None) -> str:
    """Only a path of this site: never another host (`//evil`, `https://…`, `/<tab>/evil`)."""
    if target and _SITE_PATH.fullmatch(target):
        return target
    return landing()


@blueprint.get("/login")
def login():
    """The login form (zh-CN unless the language was switched)."""
    return render_template("login.html", next=request.args.get("next", ""))


@attempts.post("/login")
def submit_login():
    """Check the password (lockout after repeated failures); a new session on success."""
    username = request.form.get("username", "").strip()[:100]
    password = request.form.get("password", "")[:200]
    runtime = console()
    try:
        user = runtime.authenticator.login(runtime.settings.mall_id, username, password)
    except LoginRefused as refused:
        log.info("login refused", extra={"username": username, "locked": refused.locked_until is not None})
        LOGINS.labels("locked" if refused.locked_until else "refused").inc()
        locked = format_datetime(refused.locked_until) if refused.locked_until else None
        page = render_template(
            "login.html",
            next=request.form.get("next", ""),
            username=username,
            refused=True,
            locked_until=locked,
        )
        return page, 401
    current_app.session_interface.start(session, user)
    log.info("login", extra={"username": user.username})
    LOGINS.labels("success").inc()
    return redirect(_safe_next(request.form.get("next")))


@blueprint.post("/logout")
def logout():
    """End the session (its row is deleted: the cookie is worth nothing after this)."""
    current_app.session_interface.end(session)
    return redirect(url_for("login.login"))
