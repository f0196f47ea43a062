"""The page guard: who is logged in, what roles a page needs, and a service client as that user."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import timedelta

from flask import abort, current_app, redirect, request, session, url_for

from services.common.identity.model import PROCESS_ROLES, Role
from services.common.identity.users import User
from services.console.adapters.services import ServiceClient

# A token minted for each page from the session's user as it is now: a changed role or a
# deactivation applies at the next click, and a token that leaks is useless within minutes.
PAGE_TOKEN_TTL = timedelta(minutes=5)


def console():
    return current_app.extensions["console"]


def current_user() -> User | None:
    return getattr(session, "user", None)


def login_required(*roles: str) -> Callable:
    """The page needs a logged-in user, holding one of `roles` when given (403 otherwise)."""

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def guarded(*args, **kwargs):
            user = current_user()
            if user is None:
                return redirect(
                    url_for("login.login", next=request.script_root + request.full_path.rstrip("?"))
                )
            if roles and not set(user.roles) & set(roles):
                abort(403)
            return view(*args, **kwargs)

        return guarded

    return decorate


def api() -> ServiceClient:
    """The services' APIs, called as the logged-in user."""
    user = current_user()
    if user is None:
        abort(401)
    token = console().tokens.issue(user.identity(), ttl=PAGE_TOKEN_TTL)
    return console().services.as_user(token)


def has_role(*roles: str) -> bool:
    user = current_user()
    return user is not None and bool(set(user.roles) & set(roles))


def landing() -> str:
    """Where a user starts: the queue; a designer the process versions, an admin the users."""
    if has_role(*PROCESS_ROLES):
        return url_for("queue.queue")
    if has_role(Role.PROCESS_DESIGNER):
        return url_for("processes.versions")
    if has_role(Role.ADMIN):
        return url_for("admin.users")
    return url_for("inbox.inbox")
