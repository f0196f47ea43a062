"""A staff member's own short-lived bearer token, for a username and password (no cookie, no CSRF).

The password check is the console login's (services/common/identity/login.py): the same refusals,
the same lockout, and the same LOGIN_RATE_LIMIT per client address, counted together with the
login form's (services/console/app.py).
"""

from __future__ import annotations

import logging

from flask import current_app

from services.common.identity.login import LoginRefused
from services.common.web import Blueprint
from services.console.api import schemas
from services.console.api.users import NO_STORE
from services.console.metrics import LOGINS

log = logging.getLogger(__name__)
token_login = Blueprint(
    "token_login", __name__, url_prefix="/api/token", description="A staff member's own token, by logging in."
)


@token_login.route("", methods=["POST"])
@token_login.arguments(schemas.TokenLoginIn())
@token_login.response(200, schemas.TokenOut)
@token_login.alt_response(401, response="UNAUTHORIZED")
@token_login.alt_response(429, response="TOO_MANY_REQUESTS")
@token_login.doc(security=[])
def log_in_for_a_token(data):
    """Log in for a short-lived bearer token of one's own (JSON, no cookie).

    The token carries the user's roles, floors and departments and lasts LOGIN_TOKEN_MINUTES (60 by
    default). A wrong name or password, an inactive user or a locked account answers 401 with the login
    page's message; LOGIN_RATE_LIMIT per client address, shared with the login page, answers 429.
    """
    runtime = current_app.extensions["console"]
    username, lifetime = data["username"].strip(), runtime.settings.login_token_ttl
    try:
        issued = runtime.staff_tokens.log_in(runtime.settings.mall_id, username, data["password"], lifetime)
    except LoginRefused as refused:
        locked = refused.locked_until is not None
        log.info("login refused", extra={"username": username, "locked": locked, "via": "api"})
        LOGINS.labels("locked" if locked else "refused").inc()
        raise
    log.info("login", extra={"username": username, "via": "api"})
    LOGINS.labels("success").inc()
    body = {"token": issued.token, "token_type": "Bearer", "expires_in": int(lifetime.total_seconds())}
    return body, 200, NO_STORE
