"""The customers' web form: no login, rate-limited."""

from __future__ import annotations

from flask import current_app

from services.common.web import Blueprint
from services.intake.entrypoints import schemas
from services.intake.entrypoints.attachments import (
    CheckedOut,
    FilesIn,
    PublicUploadIn,
    PublicUploadOut,
    attach_public,
    check_chosen,
    limited,
    upload_token,
)
from services.intake.entrypoints.recording import bus, record_command, replay_headers, with_rule_errors

public = Blueprint(
    "public",
    __name__,
    url_prefix="/public",
    description="The customer-facing web form: no login, rate-limited.",
)


@public.route("/complaints", methods=["POST"])
@with_rule_errors("public", authenticated=False)
@public.arguments(schemas.IdempotencyHeader(), location="headers", as_kwargs=True)
@public.arguments(schemas.PublicComplaintIn())
@public.response(201, schemas.PublicReceiptOut)
@public.alt_response(409, response="CONFLICT")
@public.alt_response(429, response="TOO_MANY_REQUESTS")
@public.doc(security=[])
def post_public_complaint(data, idempotency_key=None):
    """Send a complaint from the mall's web form; answers with the receipt number."""
    recorded = bus().handle(record_command(data, None, idempotency_key, "public"))
    complaint = recorded.complaint
    receipt = {
        "number": complaint.number,
        "received_at": complaint.received_at,
        "promised_reply_date": complaint.promised_reply_date,
        "upload_token": upload_token(complaint.id),
    }
    return receipt, 201, replay_headers(recorded)


@public.route("/attachments", methods=["POST"])
@limited
@public.arguments(PublicUploadIn(), location="files")
@public.response(201, PublicUploadOut)
@public.alt_response(429, response="TOO_MANY_REQUESTS")
@public.doc(security=[])
def post_public_attachments(files):
    """Photos (from the phone's camera), PDFs or recordings for the complaint the form just sent:
    `upload_token` is the one its receipt answered, good for two hours. Checked as staff uploads are."""
    return attach_public(files), 201


@public.route("/attachments/check", methods=["POST"])
@limited
@public.arguments(FilesIn(), location="files")
@public.response(200, CheckedOut)
@public.alt_response(429, response="TOO_MANY_REQUESTS")
@public.doc(security=[])
def post_public_attachments_check(files):
    """Judge the form's files before it sends the complaint, keeping none: a refused file (named in
    the 400) stops the complaint, so none is recorded without the photo its customer chose."""
    return check_chosen(files), 200


@public.route("/reference")
@public.response(200, schemas.PublicReference)
@public.doc(security=[])
def get_public_reference():
    """Floors, departments and shop names for the web form (no contact details)."""
    mall_id = current_app.extensions["mall.settings"].mall_id
    with current_app.extensions["intake.uow"]() as uow:
        return {
            "floors": uow.reference.floors(mall_id),
            "departments": uow.reference.departments(mall_id),
            "merchants": uow.reference.merchants(mall_id),
        }
