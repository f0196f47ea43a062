"""HTTP schemas of the e-mailed complaints (drafts from the mailbox)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from services.common.web.schemas import StrictSchema
from services.intake.entrypoints.schemas import ComplaintIn, ComplaintOut, CustomerIn

KINDS = ("draft", "set_aside")
STATES = ("open", "confirmed", "dismissed")


class DraftListArgs(StrictSchema):
    kind = fields.String(load_default="draft", validate=validate.OneOf(KINDS))
    state = fields.String(load_default="open", validate=validate.OneOf(STATES))
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class MailboxOut(Schema):
    connected = fields.Boolean(
        allow_none=True,
        metadata={"description": "whether the mailbox worker reaches the mailbox; null: none is set up"},
    )
    failures = fields.Integer(metadata={"description": "failed attempts to reach it in a row"})
    last_ok_at = fields.AwareDateTime(allow_none=True)


class EmailAttachmentOut(Schema):
    id = fields.UUID()
    filename = fields.String()
    content_type = fields.String()
    size = fields.Integer()


class DraftSummary(Schema):
    id = fields.UUID()
    kind = fields.String(metadata={"enum": ["draft", "set_aside", "answer"]})
    state = fields.String(metadata={"enum": list(STATES)})
    reason = fields.String(allow_none=True, metadata={"description": "why set aside: auto_reply, bounce"})
    problem = fields.String(
        allow_none=True,
        metadata={
            "description": "why not read in full: no_sender, broken_structure, undecodable_text, unreadable"
        },
    )
    sender_name = fields.String(allow_none=True)
    sender_address = fields.String(allow_none=True)
    subject = fields.String()
    message_id = fields.String(allow_none=True)
    sent_at = fields.AwareDateTime(allow_none=True)
    received_at = fields.AwareDateTime()
    complaint_id = fields.UUID(allow_none=True)
    decided_by = fields.String(allow_none=True)
    decided_at = fields.AwareDateTime(allow_none=True)
    attachment_count = fields.Integer()


class DraftOut(DraftSummary):
    body = fields.String()
    attachments = fields.List(fields.Nested(EmailAttachmentOut))


class ThreadMessage(DraftOut):
    pass


class ConfirmIn(ComplaintIn):
    """The desk's complaint form for a draft: channel is e-mail; the customer defaults to the sender."""

    class Meta(ComplaintIn.Meta):
        exclude = ("channel",)

    customer = fields.Nested(CustomerIn, load_default=dict)


class ConfirmedOut(Schema):
    draft_id = fields.UUID()
    complaint = fields.Nested(ComplaintOut)
    attachments_not_copied = fields.List(
        fields.String(),
        metadata={
            "description": "attachments of the e-mail the complaint could not take (a kind or size the "
            "desk may not attach): still with the e-mail"
        },
    )
