"""User administration (role `admin` only): create, change, deactivate, passwords, sessions, tokens."""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import current_app
from flask.views import MethodView

from services.common.errors import NotFound
from services.common.identity.model import Role
from services.common.web import Blueprint, current_identity, require_roles
from services.console.api import schemas
from services.console.api.places import check_places

log = logging.getLogger(__name__)
users = Blueprint("users", __name__, url_prefix="/api/users", description="Staff users, roles and scopes.")
service_tokens = Blueprint(
    "service_tokens",
    __name__,
    url_prefix="/api/service-tokens",
    description="Bearer tokens for other systems.",
)


# A token in an answer is a credential: no cache (a proxy's or the client's) keeps a copy (RFC 6749 5.1).
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def _console():
    return current_app.extensions["console"]


def _mall() -> str:
    return current_identity().mall_id


@users.route("")
class UserCollection(MethodView):
    @require_roles(Role.ADMIN)
    @users.response(200, schemas.UserOut(many=True))
    def get(self):
        """Every staff user of the mall, by username."""
        return _console().users.list(_mall())

    @require_roles(Role.ADMIN)
    @users.arguments(schemas.UserIn())
    @users.response(201, schemas.UserOut)
    @users.alt_response(409, response="CONFLICT")
    def post(self, data):
        """Create a user: a floor supervisor needs floors, a department manager a department.

        Roles, floors and departments each at most once; floors and departments the mall's own
        (intake's reference data: 503 while intake does not answer).
        """
        check_places(data)
        user = _console().users.create(
            _mall(),
            data["username"],
            data["roles"],
            data["floors"],
            data["departments"],
            data.get("display_name"),
            data.get("password"),
        )
        return user, 201


@users.route("/<string:username>")
class UserItem(MethodView):
    @require_roles(Role.ADMIN)
    @users.response(200, schemas.UserOut)
    @users.alt_response(404, response="NOT_FOUND")
    def get(self, username):
        """One user."""
        return _console().users.get(_mall(), username)

    @require_roles(Role.ADMIN)
    @users.arguments(schemas.UserChange())
    @users.response(200, schemas.UserOut)
    @users.alt_response(404, response="NOT_FOUND")
    def patch(self, data, username):
        """Change name, roles, scopes or `active` (deactivating ends the user's sessions); at least one.

        Floors and departments given must be the mall's own, as when creating a user.
        """
        check_places(data)
        return _console().users.update(_mall(), username, data)


@users.route("/<string:username>/password", methods=["PUT"])
@require_roles(Role.ADMIN)
@users.arguments(schemas.PasswordIn())
@users.response(200, schemas.UserOut)
@users.alt_response(404, response="NOT_FOUND")
def put_password(data, username):
    """Set a new password: unlocks the account and ends the user's sessions."""
    return _console().users.set_password(_mall(), username, data["password"])


@users.route("/<string:username>/unlock", methods=["POST"])
@require_roles(Role.ADMIN)
@users.response(200, schemas.UserOut)
@users.alt_response(404, response="NOT_FOUND")
def unlock(username):
    """Lift a lockout after failed logins."""
    runtime = _console()
    user = runtime.users.get(_mall(), username)
    runtime.authenticator.unlock(user.id)
    return runtime.users.get(_mall(), username)


@users.route("/<string:username>/sessions", methods=["DELETE"])
@require_roles(Role.ADMIN)
@users.response(200, schemas.RevokedOut)
@users.alt_response(404, response="NOT_FOUND")
def revoke_sessions(username):
    """Log the user out everywhere, now."""
    runtime = _console()
    user = runtime.users.get(_mall(), username)
    return {"sessions_ended": runtime.sessions.revoke_user(user.id)}


@users.route("/<string:username>/tokens")
class UserTokens(MethodView):
    @require_roles(Role.ADMIN)
    @users.arguments(schemas.UserTokenIn())
    @users.response(201, schemas.UserTokenOut)
    @users.alt_response(404, response="NOT_FOUND")
    def post(self, data, username):
        """A bearer token for a staff user, e.g. for its department's own system.

        It carries the user's roles, floors and departments as they stand (the same as `mall token
        user`); refused for an inactive user (400 naming `username`). The issue is logged with its
        `purpose`. A later change to the user's roles, scopes, `active` or password revokes it.
        """
        issued = _console().staff_tokens.for_user(_mall(), username, timedelta(hours=data["hours"]))
        audit = {"username": username, "issued_by": current_identity().subject, "purpose": data["purpose"]}
        log.info("user token issued", extra={**audit, "expires_at": issued.expires_at.isoformat()})
        user = issued.user
        body = {
            "username": user.username,
            "roles": user.roles,
            "floors": user.floors,
            "departments": user.departments,
            "token": issued.token,
            "token_type": "Bearer",
            "expires_in_hours": data["hours"],
            "expires_at": issued.expires_at,
        }
        return body, 201, NO_STORE

    @require_roles(Role.ADMIN)
    @users.response(204)
    @users.alt_response(404, response="NOT_FOUND")
    def delete(self, username):
        """Revoke every bearer token of the user (refused everywhere within TOKEN_CHECK_SECONDS).

        Its console sessions go on; the user may log in for a new token (`POST /api/token`).
        """
        _console().users.revoke_tokens(_mall(), username)
        log.info(
            "user tokens revoked", extra={"username": username, "revoked_by": current_identity().subject}
        )


@service_tokens.route("", methods=["POST"])
@require_roles(Role.ADMIN)
@service_tokens.arguments(schemas.ServiceTokenIn())
@service_tokens.response(201, schemas.ServiceTokenOut)
def issue_service_token(data):
    """A bearer token with the role `service` for another system (the same as `mall token service`)."""
    identity, token = _console().service_tokens.issue(_mall(), data["name"], timedelta(hours=data["hours"]))
    return {"subject": identity.subject, "token": token, "expires_in_hours": data["hours"]}, 201


@service_tokens.route("/<string:name>", methods=["DELETE"])
@require_roles(Role.ADMIN)
@service_tokens.response(204)
@service_tokens.alt_response(404, response="NOT_FOUND")
def revoke_service_tokens(name):
    """Revoke every token issued so far to the system `name` (as `mall token revoke service:<name>`):
    refused everywhere within TOKEN_CHECK_SECONDS; the next one issued works. 404 for a name no
    token can have been issued to."""
    if not schemas.NAME_PATTERN.fullmatch(name):
        raise NotFound(f"no service {name!r}")
    revoked_by = current_identity().subject
    _console().service_tokens.revoke(_mall(), name, revoked_by)
    log.info("service tokens revoked", extra={"service": name, "revoked_by": revoked_by})
