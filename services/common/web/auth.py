"""Bearer-token authentication and the one role-and-scope check every service uses."""

from __future__ import annotations

import functools
from collections.abc import Callable

import flask_smorest
from flask import current_app, g, request

from services.common.errors import Forbidden, Unauthorized
from services.common.identity.model import Identity
from services.common.identity.tokens import TokenIssuer


def _issuer() -> TokenIssuer:
    return current_app.extensions["mall.tokens"]


def authenticate() -> Identity:
    """The identity of the bearer token on this request; Unauthorized when absent or bad."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("a bearer token is required")
    identity = _issuer().verify(token.strip())
    if identity.mall_id != current_app.extensions["mall.settings"].mall_id:
        raise Unauthorized("token is for another mall")
    return identity


def require_roles(*roles: str) -> Callable:
    """Allow the view only to callers holding one of `roles`; the identity lands in `g`.

    The view's OpenAPI operation documents the 401 and 403 this check answers.
    """

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def guarded(*args, **kwargs):
            identity = authenticate()
            if not identity.has_any(*roles):
                raise Forbidden(f"requires one of the roles: {', '.join(roles)}")
            g.identity = identity
            return view(*args, **kwargs)

        return flask_smorest.Blueprint.doc(responses={401: "UNAUTHORIZED", 403: "FORBIDDEN"})(guarded)

    return decorate


def current_identity() -> Identity:
    identity = g.get("identity")
    if identity is None:
        raise Unauthorized("no authenticated caller")
    return identity
