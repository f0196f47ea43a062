"""User administration (role `admin` only): create, change, deactivate, passwords, sessions."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from flask.views import MethodView

from services.common.identity.model import Identity, Role
from services.common.web import Blueprint, current_identity, require_roles
from services.console.api import schemas

users = Blueprint("users", __name__, url_prefix="/api/users", description="Staff users, roles and scopes.")
service_tokens = Blueprint("service_tokens", __name__, url_prefix="/api/service-tokens",
                           description="Bearer tokens for other systems.")  # fmt: skip


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
        """Create a user: a floor supervisor needs floors, a department manager a department."""
        user = _console().users.create(
            _mall(), data["username"], data["roles"], data["floors"], data["departments"],
            data.get("display_name"), data.get("password"),
        )  # fmt: skip
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
        """Change name, roles, scopes or `active` (deactivating ends the user's sessions)."""
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


@service_tokens.route("", methods=["POST"])
@require_roles(Role.ADMIN)
@service_tokens.arguments(schemas.ServiceTokenIn())
@service_tokens.response(201, schemas.ServiceTokenOut)
def issue_service_token(data):
    """A bearer token with the role `service` for another system (the same as `mall token service`)."""
    identity = Identity(subject=f"service:{data['name']}", roles=frozenset({Role.SERVICE}), mall_id=_mall())
    token = _console().tokens.issue(identity, timedelta(hours=data["hours"]))
    return {"subject": identity.subject, "token": token, "expires_in_hours": data["hours"]}, 201
