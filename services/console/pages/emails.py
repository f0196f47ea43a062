"""The desk's e-mailed complaints: the drafts read from the mall's mailbox, each confirmed into a
complaint with the desk's own form, or dismissed (kept, never deleted)."""

from __future__ import annotations

import uuid

from flask import Blueprint, flash, redirect, render_template, request, url_for

from services.common.errors import InvalidInput
from services.common.identity.model import Role
from services.console.auth.guard import api, login_required
from services.console.i18n import translate
from services.console.pages import html_errors
from services.console.pages.attachments import send_files
from services.console.pages.desk import complaint_body, default_reply_date, render_form
from services.console.pages.files import passed_on

blueprint = html_errors(Blueprint("emails", __name__))

VIEWS = {
    "open": ("draft", "open"),
    "set_aside": ("set_aside", "open"),
    "confirmed": ("draft", "confirmed"),
    "dismissed": ("draft", "dismissed"),
}


@blueprint.get("/emails")
@login_required(Role.SERVICE_DESK)
def drafts():
    """E-mailed complaints waiting for the desk (or those set aside, confirmed, dismissed)."""
    view = request.args.get("view", "open")
    kind, state = VIEWS.get(view, VIEWS["open"])
    client = api()
    items = client.get("/intake/email-drafts", kind=kind, state=state, limit=100)
    return render_template(
        "emails.html",
        items=items,
        view=view if view in VIEWS else "open",
        views=VIEWS,
        mailbox=client.get("/intake/email-drafts/mailbox"),
    )


def _draft(draft_id) -> dict:
    return api().get(f"/intake/email-drafts/{draft_id}")


def _values(draft: dict) -> dict:
    """The desk form as the e-mail fills it: the sender, the text, the policy's reply date."""
    return {
        "channel": "email",
        "customer_name": draft.get("sender_name") or "",
        "customer_email": draft.get("sender_address") or "",
        "customer_preferred_reply_channel": "email",
        "description": (draft.get("body") or "")[:5000],
        "promised_reply_date": default_reply_date(),
        "people_count": "1",
        "idempotency_key": str(uuid.uuid4()),
    }


@blueprint.get("/emails/<uuid:draft_id>")
@login_required(Role.SERVICE_DESK)
def draft(draft_id):
    """One e-mail beside the desk's complaint form, filled in from it (a confirmed one: its case)."""
    found = _draft(draft_id)
    if found["state"] == "confirmed" and found.get("complaint_id"):
        return redirect(url_for("cases.case", case_id=found["complaint_id"]))
    return render_form(_values(found), template="email_draft.html", draft=found)


@blueprint.post("/emails/<uuid:draft_id>")
@login_required(Role.SERVICE_DESK)
def confirm(draft_id):
    """Record the e-mail as a complaint with what the desk confirmed; the receipt follows."""
    values = {**request.form.to_dict(), "customer_request": request.form.getlist("customer_request")}
    try:
        body = complaint_body(request.form)
        body.pop("channel", None)
        confirmed = api().post(f"/intake/email-drafts/{draft_id}/confirm", body)
    except InvalidInput as refused:
        return render_form(values, refused.fields, 400, template="email_draft.html", draft=_draft(draft_id))
    complaint_id = confirmed["complaint"]["id"]
    if confirmed.get("attachments_not_copied"):
        flash(translate("emails.not_copied", names="、".join(confirmed["attachments_not_copied"])))
    refused_files = send_files(api(), complaint_id)  # files the desk chose on the form, as on its own
    if refused_files:
        flash(translate("attachments.refused_after_recording", reason=refused_files))
    return redirect(url_for("desk.receipt", complaint_id=complaint_id))


@blueprint.post("/emails/<uuid:draft_id>/dismiss")
@login_required(Role.SERVICE_DESK)
def dismiss(draft_id):
    """Not a complaint: set the e-mail aside (it stays in the list of dismissed ones)."""
    api().post(f"/intake/email-drafts/{draft_id}/dismiss")
    flash("emails.dismissed")
    return redirect(url_for("emails.drafts"))


@blueprint.get("/emails/<uuid:draft_id>/attachments/<uuid:attachment_id>")
@login_required(Role.SERVICE_DESK)
def attachment(draft_id, attachment_id):
    """An attachment of the e-mail, as a download."""
    return passed_on(api().download(f"/intake/email-drafts/{draft_id}/attachments/{attachment_id}"))
