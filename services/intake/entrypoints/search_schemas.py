"""Request and response schemas of search, the customer's history and related complaints."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from services.common.web.schemas import StrictSchema, each_once, not_blank
from services.intake.entrypoints.schemas import PHONE, ComplaintOut, ListArgs


class SearchArgs(ListArgs):
    """The list's filters, and `q`: a receipt number, a phone number or its last four digits, or words
    (Chinese or not)."""

    q = fields.String(
        validate=validate.Length(max=100),
        metadata={
            "description": "a number (TS-20261122-0007), a phone, its last four digits, or words: the"
            " customer's name, the shop, the description, what the customer asked for, the resolutions"
        },
    )

    class Meta(ListArgs.Meta):
        exclude = ("cursor",)


class SearchPage(Schema):
    items = fields.List(fields.Nested(ComplaintOut), metadata={"description": "best match first"})


class HistoryArgs(StrictSchema):
    phone = fields.String(required=True, validate=PHONE)
    limit = fields.Integer(load_default=10, validate=validate.Range(min=1, max=50))


class EarlierComplaint(Schema):
    id = fields.String()
    number = fields.String()
    received_at = fields.AwareDateTime()
    category = fields.String()
    shop_name = fields.String(allow_none=True)
    merchant_code = fields.String(
        allow_none=True, metadata={"description": "the shop's code (its unit is in the reference data)"}
    )
    description = fields.String(metadata={"description": "masked as the list masks it"})
    open = fields.Boolean(metadata={"description": "the case still has a task open"})
    outcome = fields.String(allow_none=True, metadata={"description": "the last resolution recorded, masked"})
    merged_into = fields.String(allow_none=True)


class CustomerHistory(Schema):
    count = fields.Integer(metadata={"description": "earlier complaints of this phone the caller may see"})
    last_received_at = fields.AwareDateTime(allow_none=True)
    open_count = fields.Integer()
    items = fields.List(fields.Nested(EarlierComplaint), metadata={"description": "newest first"})


class RelatedComplaint(EarlierComplaint):
    link = fields.String(allow_none=True, metadata={"description": "related or merged; null: suggested"})


class Related(Schema):
    merged_into = fields.Nested(RelatedComplaint, allow_none=True)
    linked = fields.List(fields.Nested(RelatedComplaint))
    suggested = fields.List(
        fields.Nested(RelatedComplaint),
        metadata={
            "description": "same shop (or floor) and category within the recurrence window, not linked"
        },
    )


class LinkIn(StrictSchema):
    related_id = fields.UUID(required=True)


class MergeIn(StrictSchema):
    merged_ids = fields.List(
        fields.UUID(),
        required=True,
        validate=[validate.Length(min=1, max=50), each_once],
        metadata={"description": "the individual complaints folded into this one"},
    )
    reason = fields.String(required=True, validate=not_blank("must not be blank", 500))
