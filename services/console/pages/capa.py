"""CAPA records (客诉纠正与预防措施记录): the list, open first; a record; the operations manager's update.

Reporting keeps the rules (what moves a record to in progress, what verifying needs, who may
update); the console shows its answers, field errors included, on the form.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for

from services.common.errors import Conflict, InvalidInput
from services.console.auth.guard import api, login_required
from services.console.pages import html_errors
from services.console.pages.access import CAPA_EDITORS, CAPA_READERS

blueprint = html_errors(Blueprint("capa", __name__, url_prefix="/capa"))

STATUSES = ("open", "in_progress", "verified")  # the order the list shows them in: open first
FIELDS = ("cause", "action", "owner", "due_date", "verification")
PAGE_SIZE = 50


@blueprint.get("")
@login_required(*CAPA_READERS)
def records():
    """Open records first, then those in progress, then the verified; or one status, page by page."""
    client, status = api(), request.args.get("status")
    if status in STATUSES:
        shown = [
            (
                status,
                client.get(
                    "/reporting/capa", status=status, limit=PAGE_SIZE, cursor=request.args.get("cursor")
                ),
            )
        ]
    else:
        shown = [(each, client.get("/reporting/capa", status=each, limit=PAGE_SIZE)) for each in STATUSES]
    return render_template("capa_list.html", groups=shown, status=status if status in STATUSES else None)


def _page(
    capa_id,
    errors: dict | None = None,
    values: dict | None = None,
    status: int = 200,
    conflict: str | None = None,
):
    record = api().get(f"/reporting/capa/{capa_id}")
    shown = values if values is not None else {name: record.get(name) or "" for name in FIELDS}
    page = render_template(
        "capa.html",
        record=record,
        values=shown,
        errors=errors or {},
        conflict=conflict,
        complaints=list(zip(record["complaint_ids"], record["numbers"], strict=False)),
    )
    return page, status


@blueprint.get("/<uuid:capa_id>")
@login_required(*CAPA_READERS)
def record(capa_id):
    """The problem, the complaints that opened it, cause, action, owner, due date and verification."""
    return _page(capa_id)


def capa_changes(record: dict, form) -> dict:
    """The PATCH body: the fields the form changed (emptied means cleared), `verified`, the version read."""
    body: dict = {}
    for name in FIELDS:
        wanted = form.get(name, "").strip() or None
        if wanted != (record.get(name) or None):
            body[name] = wanted
    if form.get("verified"):
        body["status"] = "verified"
    if form.get("version", "").isdigit():
        body["version"] = int(form["version"])
    return body


@blueprint.post("/<uuid:capa_id>")
@login_required(*CAPA_EDITORS)
def update(capa_id):
    """Save the operations manager's changes; the form comes back with reporting's field errors."""
    client, values = api(), request.form.to_dict()
    try:
        client.patch(
            f"/reporting/capa/{capa_id}", capa_changes(client.get(f"/reporting/capa/{capa_id}"), request.form)
        )
    except InvalidInput as refused:
        return _page(capa_id, refused.fields or {"_schema": [str(refused)]}, values, 400)
    except Conflict as clash:  # changed by someone else since, or verified: show the record as it is now
        return _page(capa_id, status=409, conflict=str(clash))
    flash("capa.saved")
    return redirect(url_for("capa.record", capa_id=capa_id))
