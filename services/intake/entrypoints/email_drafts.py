"""E-mailed complaints for the desk: the drafts the mailbox worker kept, confirmed into complaints."""

from __future__ import annotations

import re
from dataclasses import replace
from urllib.parse import quote

from flask import Response, current_app

from services.common.errors import Conflict, InvalidInput, NotFound, TooLarge
from services.common.identity.holders import sees_customer
from services.common.scrubber import customer_masks, mask_email, mask_name, scrub
from services.common.web import Blueprint, current_identity, require_roles
from services.intake.adapters.holders import open_holders
from services.intake.domain.attachments import Source
from services.intake.domain.commands import AttachFiles
from services.intake.domain.model import Channel
from services.intake.entrypoints import email_schemas as schemas
from services.intake.entrypoints.access import DESK, READ_ROLES, may_read
from services.intake.entrypoints.presenters import present
from services.intake.entrypoints.recording import bus, record_command
from services.intake.mail.store import MailStore

email_drafts = Blueprint(
    "email_drafts",
    __name__,
    url_prefix="/email-drafts",
    description="E-mailed complaints (电子邮件投诉) read from the mall's mailbox, for the desk to confirm.",
)


def _uow():
    return current_app.extensions["intake.uow"]()


def _found(store: MailStore, mall_id: str, draft_id, for_update: bool = False) -> dict:
    row = store.get(mall_id, str(draft_id), for_update)
    if row is None or row["kind"] == "answer":
        raise NotFound(f"no e-mail draft {draft_id}")
    return row


@email_drafts.route("")
@require_roles(*DESK)
@email_drafts.arguments(schemas.DraftListArgs(), location="query")
@email_drafts.response(200, schemas.DraftSummary(many=True))
def list_drafts(args):
    """The mailbox's messages of one kind (draft, set_aside) and state (open, confirmed, dismissed),
    newest first."""
    identity = current_identity()
    with _uow() as uow:
        return MailStore(uow.conn).listing(identity.mall_id, args["kind"], args["state"], args["limit"])


@email_drafts.route("/mailbox")
@require_roles(*DESK)
@email_drafts.response(200, schemas.MailboxOut)
def mailbox():
    """Whether a complaint mailbox is read at all (a worker has reported on it: IMAP_HOST is set), and
    whether it answers, so the desk can tell an empty list from a mailbox nobody reads."""
    identity = current_identity()
    with _uow() as uow:
        found = MailStore(uow.conn).statuses(identity.mall_id)
    if not found:
        return {"connected": None, "failures": 0, "last_ok_at": None}
    return {
        "connected": all(row["connected"] for row in found),
        "failures": max(row["failures"] for row in found),
        "last_ok_at": min((row["last_ok_at"] for row in found if row["last_ok_at"]), default=None),
    }


@email_drafts.route("/<uuid:draft_id>")
@require_roles(*DESK)
@email_drafts.response(200, schemas.DraftOut)
@email_drafts.alt_response(404, response="NOT_FOUND")
def get_draft(draft_id):
    """One message with its text and its attachments' names."""
    identity = current_identity()
    with _uow() as uow:
        return _found(MailStore(uow.conn), identity.mall_id, draft_id)


@email_drafts.route("/<uuid:draft_id>/attachments/<uuid:attachment_id>")
@require_roles(*DESK)
@email_drafts.alt_response(404, response="NOT_FOUND")
def get_attachment(draft_id, attachment_id):
    """An attachment's file as the customer sent it (always as a download)."""
    identity = current_identity()
    with _uow() as uow:
        found = MailStore(uow.conn).attachment(identity.mall_id, str(draft_id), str(attachment_id))
    if found is None:
        raise NotFound(f"no attachment {attachment_id}")
    return _download(found)


def _download(found: dict) -> Response:
    response = Response(bytes(found["content"]), mimetype=found["content_type"])
    response.headers["Content-Disposition"] = _disposition(found["filename"])
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


def _disposition(filename: str) -> str:
    """A download under the customer's file name: RFC 6266's UTF-8 form, and a plain ASCII one for old
    browsers; nothing of the name can end the header or add another."""
    plain = re.sub(r"[^A-Za-z0-9._-]", "_", filename).strip("._") or "attachment"
    return f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(filename, safe='')}"


@email_drafts.route("/<uuid:draft_id>/confirm", methods=["POST"])
@require_roles(*DESK)
@email_drafts.arguments(schemas.ConfirmIn())
@email_drafts.response(201, schemas.ConfirmedOut)
@email_drafts.alt_response(404, response="NOT_FOUND")
@email_drafts.alt_response(409, response="CONFLICT")
def confirm(data, draft_id):
    """Record the draft as a complaint (channel email) with the category, floor and shop the desk
    chose; the customer's address defaults to the sender's. Acknowledged by e-mail as usual, in the
    thread of the customer's message. A retry records nothing twice."""
    identity = current_identity()
    with _uow() as uow:
        draft = _found(MailStore(uow.conn), identity.mall_id, draft_id)
    if draft["kind"] != "draft" or draft["state"] == "dismissed":
        raise Conflict("this message is not an open draft")
    customer = {"email": draft["sender_address"], "name": draft["sender_name"], **data.pop("customer", {})}
    if customer.get("email") and not customer.get("preferred_reply_channel"):
        customer["preferred_reply_channel"] = "email"
    body = {**data, "channel": Channel.EMAIL.value, "customer": customer}
    command = record_command(body, identity, f"email-draft:{draft_id}", "email-drafts")
    thread = {"message_id": draft["message_id"], "subject": draft["subject"]} if draft["message_id"] else None
    recorded = bus().handle(replace(command, email_thread=thread))
    with _uow() as uow:
        store = MailStore(uow.conn)
        first = store.get(identity.mall_id, str(draft_id), for_update=True)["state"] == "open"
        store.decide(
            str(draft_id),
            "confirmed",
            recorded.complaint.id,
            identity.subject,
            recorded.complaint.received_at,
        )
        files = store.contents(str(draft_id)) if first and not recorded.replayed else []
        uow.commit()
    not_copied = _carry_over(files, recorded.complaint.id, identity)
    complaint = present(recorded.complaint, identity)
    return {"draft_id": draft_id, "complaint": complaint, "attachments_not_copied": not_copied}, 201


def _carry_over(files: list[tuple[str, bytes]], complaint_id: str, identity) -> list[str]:
    """The e-mail's attachments kept with the complaint as the desk's are (the object store), each on
    its own so one refused (a kind the desk may not attach, too large) keeps none of the others out;
    the names refused. Every one stays with the e-mail too."""
    refused = []
    for name, content in files:
        command = AttachFiles(
            complaint_id=complaint_id,
            files=((name, content),),
            source=Source.STAFF.value,
            actor_id=identity.subject,
            actor_role=sorted(identity.roles)[0],
        )
        try:
            bus().handle(command)
        except (InvalidInput, TooLarge):
            refused.append(name)
    return refused


@email_drafts.route("/<uuid:draft_id>/dismiss", methods=["POST"])
@require_roles(*DESK)
@email_drafts.response(200, schemas.DraftOut)
@email_drafts.alt_response(404, response="NOT_FOUND")
@email_drafts.alt_response(409, response="CONFLICT")
def dismiss(draft_id):
    """Set an open draft aside as no complaint (kept, never deleted)."""
    identity = current_identity()
    clock = current_app.extensions["intake.bus"].context.clock
    with _uow() as uow:
        store = MailStore(uow.conn)
        draft = _found(store, identity.mall_id, draft_id, for_update=True)
        if draft["state"] != "open":
            raise Conflict("this message was already decided")
        store.decide(str(draft_id), "dismissed", None, identity.subject, clock.now())
        uow.commit()
        return _found(store, identity.mall_id, draft_id)


@email_drafts.route("/of-complaint/<uuid:complaint_id>")
@require_roles(*READ_ROLES)
@email_drafts.response(200, schemas.ThreadMessage(many=True))
@email_drafts.alt_response(404, response="NOT_FOUND")
def of_complaint(complaint_id):
    """A complaint's e-mails: the customer's first message and its answers in the thread, oldest
    first (the sender masked and the text scrubbed unless you hold the case)."""
    identity = current_identity()
    with _uow() as uow:
        complaint = uow.complaints.get(identity.mall_id, str(complaint_id))
        if not may_read(uow.conn, identity, complaint):
            raise NotFound(f"no complaint {complaint_id}")
        holders = open_holders(uow.conn, [complaint.id])[complaint.id]
        rows = MailStore(uow.conn).of_complaint(identity.mall_id, complaint.id)
    if sees_customer(identity, holders):
        return rows
    known = customer_masks(complaint.customer.as_dict(), *({"email": row["sender_address"]} for row in rows))
    return [
        {
            **row,
            "sender_name": mask_name(row["sender_name"]),
            "sender_address": mask_email(row["sender_address"]),
            "subject": scrub(row["subject"], known),
            "body": scrub(row["body"], known),
        }
        for row in rows
    ]
