"""The desk's intake form (every channel) and the receipt to print."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from flask import Blueprint, flash, redirect, render_template, request, url_for

from services.common.errors import InvalidInput, NotFound
from services.common.identity.model import Role
from services.common.links import status_page_link
from services.console.auth.guard import api, console, login_required
from services.console.i18n import language, translate
from services.console.pages import html_errors
from services.console.pages.attachments import FIELD, check_files, chosen_names, send_files

blueprint = html_errors(Blueprint("desk", __name__))

CHANNELS = ("phone", "on_site", "suggestion_box", "letter", "email", "web")
CATEGORIES = (
    "merchant_service",
    "price",
    "quality",
    "staff_service",
    "environment",
    "facility",
    "fee",
    "emergency",
)
REQUESTS = ("refund", "exchange", "repair", "compensation", "apology", "other")
# Who intake says received a complaint sent from the customers' web form (no clerk took it).
PUBLIC_ACTOR = "public-web-form"
REPLY_CHANNELS = ("phone", "sms", "email", "letter", "on_site")
FLAGS = ("injury", "media_exposure", "lawsuit", "about_department_manager", "handle_directly")
TEXTS = (
    "channel",
    "category",
    "description",
    "amount",
    "floor",
    "merchant_code",
    "department",
    "promised_reply_date",
)
CUSTOMER_TEXTS = ("name", "phone", "email", "address", "preferred_reply_channel")


def _reference() -> dict:
    client = api()
    return {
        "floors": client.get("/intake/reference/floors"),
        "departments": client.get("/intake/reference/departments"),
        "merchants": client.get("/intake/reference/merchants"),
    }


def default_reply_date() -> str:
    runtime = console()
    today = runtime.clock.now().astimezone(runtime.settings.zone).date()
    return (today + timedelta(days=runtime.settings.policy.first_reply_after.days)).isoformat()


def render_form(
    values: dict, errors: dict | None = None, status: int = 200, template: str = "intake_form.html", **extra
):
    """The desk's complaint form (or a page extending it, such as an e-mail's confirmation)."""
    page = render_template(
        template,
        values=values,
        errors=errors or {},
        reference=_reference(),
        channels=CHANNELS,
        categories=CATEGORIES,
        requests=REQUESTS,
        reply_channels=REPLY_CHANNELS,
        reply_days=console().settings.policy.first_reply_after.days,
        **extra,
    )
    return page, status


@blueprint.get("/complaints/new")
@login_required(Role.SERVICE_DESK)
def new_complaint():
    """The complaint record form, with the policy's promised reply date filled in."""
    values = {
        "channel": "phone",
        "promised_reply_date": default_reply_date(),
        "people_count": "1",
        "idempotency_key": str(uuid.uuid4()),
    }
    page, status = render_form(values)
    # Back after recording must not bring this form back with its key (sent again, it would be a
    # second complaint under a new number): the browser asks for a fresh one
    return page, status, {"Cache-Control": "no-store"}


def complaint_body(form) -> dict:
    """The intake API's body from the form: empty fields left out, ticks as booleans."""
    body = {name: form.get(name, "").strip() for name in TEXTS if form.get(name, "").strip()}
    body.update({name: name in form for name in FLAGS})
    if form.getlist("customer_request"):  # ticked boxes; none ticked leaves the field out
        body["customer_request"] = form.getlist("customer_request")
    if form.get("people_count", "").strip():
        body["people_count"] = _number(form["people_count"])
    if form.get("occurred_at", "").strip():
        body["occurred_at"] = _local_moment(form["occurred_at"])
    customer = {name: form.get(f"customer_{name}", "").strip() for name in CUSTOMER_TEXTS}
    body["customer"] = {name: value for name, value in customer.items() if value}
    body["customer"]["anonymous"] = "customer_anonymous" in form
    return body


def _number(text: str) -> int | str:
    """A whole number, or the text as typed: intake's schema names it beside the form's other
    errors, where refusing it here would hide them until the next submit."""
    try:
        return int(text)
    except ValueError:
        return text.strip()


def _local_moment(text: str) -> str:
    """A `datetime-local` input means the mall's time zone; a text that is no moment goes as typed,
    for intake to name with the form's other errors."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return text.strip()
    return moment.replace(tzinfo=console().settings.zone).isoformat()


@blueprint.post("/complaints/new")
@login_required(Role.SERVICE_DESK)
def record_complaint():
    """Record the complaint; the form comes back with each field at fault named."""
    values = {**request.form.to_dict(), "customer_request": request.form.getlist("customer_request")}
    # a refused file stops the complaint: recorded without it, the customer's evidence would be lost
    refused_files = check_files(api())
    if refused_files:
        return _form_again(values, {FIELD: [refused_files]})
    try:
        body = complaint_body(request.form)
        key = request.form.get("idempotency_key", "")[:200]
        recorded = api().post("/intake/complaints", body, headers={"Idempotency-Key": key} if key else None)
    except InvalidInput as refused:
        return _form_again(values, refused.fields)
    refused_files = send_files(api(), recorded["id"])
    if refused_files:  # checked above, so the store failed: the desk adds the files again on the case page
        flash(translate("attachments.refused_after_recording", reason=refused_files))
    return redirect(url_for("desk.receipt", complaint_id=recorded["id"]))


def _form_again(values: dict, errors: dict):
    """The form as typed, the fields at fault named (400); nothing was recorded."""
    # a browser never fills a file input again: say which files to choose once more
    return render_form(values, errors, 400, dropped_files=chosen_names())


@blueprint.get("/complaints/<uuid:complaint_id>/receipt")
@login_required()
def receipt(complaint_id):
    """The receipt for the customer: the mall, number, time of receipt, promised reply date, the desk's
    phone, the clerk who took it and where to look the complaint up."""
    complaint = api().get(f"/intake/complaints/{complaint_id}")
    settings = console().settings
    return render_template(
        "receipt.html",
        complaint=complaint,
        mall_name=settings.mall_name_en if language() == "en" else settings.mall_name,
        desk_phone=settings.desk_phone,
        clerk=clerk_name(complaint.get("received_by")),
        status_link=status_page_link(settings, complaint["number"], request.host_url),
    )


def clerk_name(username: str | None) -> str:
    """The display name of the staff member who recorded the complaint (the username if it has none);
    nothing for the public web form."""
    runtime = console()
    if not username or username == PUBLIC_ACTOR:
        return ""
    try:
        user = runtime.users.get(runtime.settings.mall_id, username)
    except NotFound:
        return username
    return user.display_name or user.username
