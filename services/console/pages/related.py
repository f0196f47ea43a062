"""The customer's history (beside the desk's form, and on a case) and related complaints on a case:
linked or merged by the desk."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for

from services.common.errors import Conflict, InvalidInput, NotFound
from services.common.identity.model import PROCESS_ROLES, Role
from services.console.auth.guard import api, console, has_role, login_required
from services.console.i18n import translate
from services.console.pages import html_errors

blueprint = html_errors(Blueprint("related", __name__))


@blueprint.get("/complaints/customer-history")
@login_required(*PROCESS_ROLES)
def customer_history():
    """The earlier complaints of a phone number, as a fragment the desk's form shows beside itself."""
    phone = request.args.get("phone", "").strip()
    history = None
    if sum(ch.isdigit() for ch in phone) >= 7:
        try:
            history = api().get("/intake/complaints/customer-history", phone=phone)
        except InvalidInput:
            history = None
    return render_template("_customer_history.html", history=history, typing=history is None)


def case_extras(complaint: dict) -> dict:
    """What the case page shows besides the case: the customer's other complaints and related ones."""
    if complaint.get("hidden"):
        return {"history": None, "related": None}
    client = api()
    customer = complaint.get("customer") or {}
    if not (customer.get("phone") or customer.get("email")):  # anonymous: nothing to look the past up by
        history = {"items": [], "no_contact": True}
    else:
        history = client.get(f"/intake/complaints/{complaint['id']}/customer-history")
    return {
        "history": history,
        "related": client.get(f"/intake/complaints/{complaint['id']}/related"),
        "related_days": console().settings.policy.capa_window.days,
        "can_link": has_role(Role.SERVICE_DESK),
    }


@blueprint.post("/cases/<uuid:case_id>/links")
@login_required(Role.SERVICE_DESK)
def link(case_id):
    """Link a suggested complaint to this one."""
    try:
        api().post(f"/intake/complaints/{case_id}/links", {"related_id": request.form.get("related_id", "")})
    except (InvalidInput, NotFound, Conflict) as refused:
        flash(translate("related.refused") + " " + _named(refused))
    else:
        flash("related.linked_ok")
    return redirect(url_for("cases.case", case_id=case_id) + "#related")


@blueprint.post("/cases/<uuid:case_id>/merge")
@login_required(Role.SERVICE_DESK)
def merge(case_id):
    """Merge the ticked complaints into this one, the collective complaint."""
    body = {
        "merged_ids": request.form.getlist("merged_ids"),
        "reason": request.form.get("reason", "").strip(),
    }
    try:
        api().post(f"/intake/complaints/{case_id}/merge", body)
    except (InvalidInput, NotFound, Conflict) as refused:
        flash(translate("related.refused") + " " + _named(refused))
    else:
        flash("related.merged_ok")
    return redirect(url_for("cases.case", case_id=case_id) + "#related")


def _named(refused: Exception) -> str:
    """The fields a refusal names, in the reader's words."""
    names = {
        "merged_ids": "related.merge_title",
        "reason": "related.merge_reason",
        "related_id": "related.title",
    }
    if isinstance(refused, Conflict):
        return translate("related.already_merged")
    if isinstance(refused, NotFound):
        return translate("related.not_found")
    fields = getattr(refused, "fields", None) or {}
    return "、".join(translate(names.get(name, name)) for name in fields) or translate("error.fields")
