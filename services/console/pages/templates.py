"""Canned replies (答复模板): the operations manager or an admin adds, edits, retires and restores the
templates the desk picks on its reply tasks. Intake keeps them and checks every rule; this page shows
its refusals beside the field, in the reader's language."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for

from services.common import i18n
from services.common.errors import Conflict, InvalidInput, NotFound
from services.console.auth.guard import api, login_required
from services.console.pages import html_errors
from services.console.pages.access import TEMPLATE_EDITORS
from services.console.pages.desk import CATEGORIES

blueprint = html_errors(Blueprint("templates", __name__, url_prefix="/reply-templates"))
FIELDS = ("category", "title", "body")


def _page(
    errors: dict | None = None,
    values: dict | None = None,
    editing: dict | None = None,
    status: int = 200,
    conflict: bool = False,
):
    found = api().get("/intake/reply-templates", include_retired="true")
    groups = [(category, [item for item in found if item["category"] == category]) for category in CATEGORIES]
    page = render_template(
        "reply_templates.html",
        groups=groups,
        categories=CATEGORIES,
        errors=errors or {},
        values=values or {},
        editing=editing,
        conflict=conflict,
    )
    return page, status


# intake's refusal of a title in use, as it answers in either language (the console asks in the reader's)
_TITLE_TAKEN = {
    i18n.message("another template of this category has this title", language) for language in i18n.LANGUAGES
}


def _errors(refused: InvalidInput) -> dict[str, str]:
    """Each field at fault, with what to do about it in the reader's language (i18n `templates.invalid.*`)."""
    found = {}
    for name, messages in (refused.fields or {"_schema": [str(refused)]}).items():
        taken = name == "title" and any(message in _TITLE_TAKEN for message in messages)
        found[name] = "title_taken" if taken else (name if name in FIELDS else "other")
    return found


@blueprint.get("")
@login_required(*TEMPLATE_EDITORS)
def templates():
    """Every template by category, those in use first; the form to add one."""
    return _page(values={"category": request.args.get("category", "")})


@blueprint.get("/<int:template_id>")
@login_required(*TEMPLATE_EDITORS)
def edit(template_id):
    """The list, with one template's form filled in to edit it."""
    found = _find(template_id)
    return _page(values=found, editing=found)


def _find(template_id: int) -> dict:
    for item in api().get("/intake/reply-templates", include_retired="true"):
        if item["id"] == template_id:
            return item
    raise NotFound(f"no reply template {template_id}")


def _body(form) -> dict:
    return {name: form.get(name, "") for name in FIELDS}


@blueprint.post("")
@login_required(*TEMPLATE_EDITORS)
def add():
    """Add a template; the form comes back with intake's refusals beside the fields."""
    try:
        api().post("/intake/reply-templates", _body(request.form))
    except InvalidInput as refused:
        return _page(_errors(refused), request.form.to_dict(), status=400)
    flash("templates.added")
    return redirect(url_for("templates.templates"))


@blueprint.post("/<int:template_id>")
@login_required(*TEMPLATE_EDITORS)
def save(template_id):
    """Save an edited template (refused if someone changed it since it was opened)."""
    body = _body(request.form)
    if request.form.get("version", "").isdigit():
        body["version"] = int(request.form["version"])
    try:
        api().patch(f"/intake/reply-templates/{template_id}", body)
    except InvalidInput as refused:
        return _page(_errors(refused), request.form.to_dict(), _find(template_id), status=400)
    except Conflict:
        found = _find(template_id)
        return _page(values=found, editing=found, status=409, conflict=True)
    flash("templates.saved")
    return redirect(url_for("templates.templates"))


@blueprint.post("/<int:template_id>/<any(retire, restore):action>")
@login_required(*TEMPLATE_EDITORS)
def retire_or_restore(template_id, action):
    """Offer a template no more, or again."""
    try:
        api().post(f"/intake/reply-templates/{template_id}/{action}")
    except InvalidInput as refused:
        return _page(_errors(refused), status=400)
    flash("templates.retired_flash" if action == "retire" else "templates.restored")
    return redirect(url_for("templates.templates"))
