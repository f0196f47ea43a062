"""User administration pages (role admin): list, create, edit roles and scopes, passwords, the
tokens a department's system works with."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for

from services.common.errors import Conflict, InvalidInput
from services.common.identity.model import ROLES, Role
from services.console.auth.guard import api, login_required
from services.console.i18n import translate
from services.console.pages import html_errors

blueprint = html_errors(Blueprint("admin", __name__, url_prefix="/admin"))
STAFF_ROLES = [role for role in ROLES if role != Role.SERVICE]
NEW_ACCOUNT = {"roles": [], "floors": [], "departments": []}


def _reference() -> dict:
    client = api()
    return {
        "floors": client.get("/intake/reference/floors"),
        "departments": client.get("/intake/reference/departments"),
    }


def _user_body(form, creating: bool) -> dict:
    body = {
        "display_name": form.get("display_name", "").strip() or None,
        "roles": form.getlist("roles"),
        "floors": form.getlist("floors"),
        "departments": form.getlist("departments"),
    }
    if creating:
        body["username"] = form.get("username", "").strip()
        if form.get("password"):
            body["password"] = form["password"]
    return body


def _render(template: str, status: int = 200, reference: dict | None = None, **values):
    reference = reference or _reference()
    return render_template(template, roles=STAFF_ROLES, reference=reference, **values), status


def unheld(users: list[dict], reference: dict) -> dict[str, list[str]]:
    """Floors no active floor supervisor covers and departments no active department manager does:
    their complaints' tasks wait in a queue nobody sees until an escalation timer moves them on."""
    active = [user for user in users if user.get("active")]
    covered_floors = {
        floor for user in active if Role.FLOOR_SUPERVISOR in user["roles"] for floor in user["floors"]
    }
    covered_departments = {
        department
        for user in active
        if Role.DEPARTMENT_MANAGER in user["roles"]
        for department in user["departments"]
    }
    return {
        "floors": [floor["code"] for floor in reference["floors"] if floor["code"] not in covered_floors],
        "departments": [
            department["code"]
            for department in reference["departments"]
            if department["code"] not in covered_departments
        ],
    }


def _users_page(status: int = 200, **values):
    listed, reference = api().get("/console/api/users"), _reference()
    return _render("users.html", status, reference, users=listed, unheld=unheld(listed, reference), **values)


@blueprint.get("/users")
@login_required(Role.ADMIN)
def users():
    """Every user with roles, scopes, state; the floors and departments nobody covers."""
    return _users_page(errors={}, values={}, account=NEW_ACCOUNT)


@blueprint.post("/users")
@login_required(Role.ADMIN)
def create_user():
    body = _user_body(request.form, creating=True)
    try:
        created = api().post("/console/api/users", body)
    except (InvalidInput, Conflict) as refused:  # the form as typed, the reason beside its field
        errors = refused.fields if isinstance(refused, InvalidInput) else {"username": [str(refused)]}
        return _users_page(
            400 if isinstance(refused, InvalidInput) else 409,
            errors=errors,
            values=request.form,
            account=_user_body(request.form, creating=True),
        )
    # a user without a password is meant (one for a department's system uses tokens), but whoever is
    # to log in cannot until an admin sets one: say so, naming the user
    named = created.get("display_name") or created["username"]
    key = "users.created" if "password" in body else "users.created_without_password"
    flash(translate(key, name=named, username=created["username"]))
    return redirect(url_for("admin.users"))


@blueprint.get("/users/<username>")
@login_required(Role.ADMIN)
def edit_user(username):
    return _render("user_edit.html", account=api().get(f"/console/api/users/{username}"), errors={})


@blueprint.post("/users/<username>")
@login_required(Role.ADMIN)
def save_user(username):
    """Save roles and scopes, or one of the actions: password, (de)activate, unlock, end sessions,
    issue a token for a department's system (shown once), revoke every token."""
    client = api()
    path = f"/console/api/users/{username}"
    action = request.form.get("action", "save")
    try:
        if action == "password":
            client.put(f"{path}/password", {"password": request.form.get("password", "")})
        elif action in ("activate", "deactivate"):
            client.patch(path, {"active": action == "activate"})
        elif action == "unlock":
            client.post(f"{path}/unlock")
        elif action == "revoke":
            client.delete(f"{path}/sessions")
        elif action == "revoke_tokens":
            client.delete(f"{path}/tokens")
        elif action == "issue_token":
            return _issued(username, client.post(f"{path}/tokens", _token_body(request.form)))
        else:
            client.patch(path, _user_body(request.form, creating=False))
    except InvalidInput as refused:
        return _render("user_edit.html", 400, account=client.get(path), errors=refused.fields)
    flash("users.tokens_revoked" if action == "revoke_tokens" else "users.saved")
    return redirect(url_for("admin.edit_user", username=username))


def _token_body(form) -> dict:
    """What the token is for and how long it lasts; hours left as typed when not a whole number, so
    the API names the field."""
    hours = form.get("hours", "").strip()
    body = {"purpose": form.get("purpose", "").strip()}
    if hours:
        body["hours"] = int(hours) if hours.isdigit() else hours
    return body


def _issued(username: str, issued: dict):
    """The page with the new token shown once: it is not kept anywhere to be shown again."""
    account = api().get(f"/console/api/users/{username}")
    page, status = _render("user_edit.html", account=account, errors={}, issued=issued)
    return page, status, {"Cache-Control": "no-store", "Pragma": "no-cache"}
