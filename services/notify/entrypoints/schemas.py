"""HTTP request and response schemas of notify's API."""

from __future__ import annotations

from marshmallow import RAISE, Schema, fields, validate


class StrictSchema(Schema):
    class Meta:
        unknown = RAISE


class InboxArgs(StrictSchema):
    unread = fields.Boolean(load_default=False, metadata={"description": "only what is not read yet"})
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))
    cursor = fields.String(validate=validate.Length(max=200))


class InboxItem(Schema):
    id = fields.String()
    complaint_id = fields.String(allow_none=True)
    number = fields.String(allow_none=True)
    kind = fields.String()
    title = fields.String()
    body = fields.String()
    link = fields.String(allow_none=True, metadata={"description": "e.g. the letter to print"})
    created_at = fields.AwareDateTime()
    read_at = fields.AwareDateTime(allow_none=True)


class InboxPage(Schema):
    items = fields.List(fields.Nested(InboxItem))
    unread = fields.Integer(metadata={"description": "how many of my notifications are unread"})
    next_cursor = fields.String(
        allow_none=True, metadata={"description": "pass as `cursor` for the next page"}
    )


class AttemptOut(Schema):
    attempted_at = fields.AwareDateTime()
    outcome = fields.String(metadata={"description": "sent, transient, permanent, interrupted or deferred"})
    answer = fields.String(allow_none=True, metadata={"description": "what the provider answered"})


class DeliveryOut(Schema):
    id = fields.String()
    request_id = fields.String()
    complaint_id = fields.String()
    number = fields.String(
        allow_none=True, metadata={"description": "the complaint's number (in the list of failed deliveries)"}
    )
    kind = fields.String()
    audience = fields.String()
    channel = fields.String()
    recipient = fields.String(allow_none=True, metadata={"description": "masked unless you are the desk"})
    recipient_name = fields.String(allow_none=True)
    language = fields.String()
    subject = fields.String(allow_none=True)
    state = fields.String(metadata={"description": "pending, sending, sent, failed, suppressed or cancelled"})
    attempts = fields.Integer()
    next_attempt_at = fields.AwareDateTime(allow_none=True)
    created_at = fields.AwareDateTime()
    sent_at = fields.AwareDateTime(allow_none=True)
    last_error = fields.String(allow_none=True)
    provider_answer = fields.String(allow_none=True)
    message_id = fields.String()
    letter = fields.String(allow_none=True, metadata={"description": "where the printable letter (PDF) is"})
    log = fields.List(fields.Nested(AttemptOut))


class RequestOut(Schema):
    id = fields.String()
    kind = fields.String()
    to = fields.String()
    number = fields.String()
    element_id = fields.String(allow_none=True)
    requested_at = fields.AwareDateTime()
    state = fields.String(metadata={"description": "waiting (for its complaint), planned or expired"})
    deliveries = fields.List(fields.Nested(DeliveryOut))


class ComplaintLog(Schema):
    complaint_id = fields.String()
    requests = fields.List(fields.Nested(RequestOut))


class PageArgs(StrictSchema):
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))
    cursor = fields.String(validate=validate.Length(max=200))


class DeliveryPage(Schema):
    items = fields.List(fields.Nested(DeliveryOut))
    next_cursor = fields.String(
        allow_none=True, metadata={"description": "pass as `cursor` for the next page"}
    )


class HeldDelivery(Schema):
    """A message to the customer as the customer's copy shows it."""

    kind = fields.String()
    channel = fields.String()
    address = fields.String()
    recipient_name = fields.String(allow_none=True)
    language = fields.String()
    subject = fields.String(allow_none=True)
    body_text = fields.String(allow_none=True)
    sms_text = fields.String(allow_none=True)
    letter = fields.Boolean(metadata={"description": "a printed letter was made of it"})
    state = fields.String()
    created_at = fields.AwareDateTime()
    sent_at = fields.AwareDateTime(allow_none=True)


class HeldComplaint(Schema):
    complaint_id = fields.String()
    number = fields.String()
    contact = fields.Dict(metadata={"description": "the customer as notify keeps it to reach them"})
    deliveries = fields.List(fields.Nested(HeldDelivery))


class PersonalDataOut(Schema):
    complaints = fields.List(fields.Nested(HeldComplaint))
