"""The schemas of customers' personal information requests (entrypoints/privacy.py)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from services.common.web.schemas import Pattern, StrictSchema
from services.intake.entrypoints.schemas import ComplaintOut

# No control character, space or other blank in an address: spelt out, because `\s` is not the same
# set in Python and in the ECMA regular expressions the OpenAPI document's pattern is read as.
_ADDRESS_PART = "[^@\\x00-\\x20\\x7f-\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff]"
CONTACT = Pattern(
    rf"^(\+?[0-9][0-9 \-]{{4,19}}|{_ADDRESS_PART}{{1,64}}@{_ADDRESS_PART}{{1,189}})$",
    error="a phone number (digits, spaces, dashes, +) or an e-mail address",
)
# Not blank: `\s` plus what only one of the two dialects counts as blank, so both read one set.
ONE_LINE = Pattern(r"^[^\r\n\x00]*[^\s\x00\x1c-\x1f\x85\ufeff][^\r\n\x00]*$", error="one line, not blank")


class PrivacyRequestIn(StrictSchema):
    contact = fields.String(
        required=True,
        validate=CONTACT,
        metadata={
            "description": "the customer's phone number or e-mail address, as its complaints hold it "
            "(a phone however separated, with or without +86; an e-mail in any case)"
        },
    )
    reason = fields.String(
        required=True,
        validate=[validate.Length(min=1, max=200), ONE_LINE],
        metadata={"description": "why, for the audit: how the customer asked and when (kept masked)"},
    )


class RequestListArgs(StrictSchema):
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))
    cursor = fields.String(validate=validate.Length(max=200))


class PrivacyRequestOut(Schema):
    id = fields.String()
    kind = fields.String(metadata={"enum": ["export", "erasure"]})
    contact_kind = fields.String(metadata={"enum": ["phone", "email"]})
    contact = fields.String(attribute="contact_masked", metadata={"description": "masked: 139****5678"})
    reason = fields.String(metadata={"description": "as given, the customer's details in it masked"})
    requested_by = fields.String()
    requested_role = fields.String(allow_none=True)
    requested_at = fields.AwareDateTime()
    complaint_ids = fields.List(fields.String())
    numbers = fields.List(fields.String())


class PrivacyRequestPage(Schema):
    items = fields.List(fields.Nested(PrivacyRequestOut))
    next_cursor = fields.String(
        allow_none=True, metadata={"description": "pass as `cursor` for the next page"}
    )


class ExportedRecord(ComplaintOut):
    """The complaint as recorded, nothing masked; staff are named by role only, not by name."""

    class Meta:
        exclude = ("received_by",)


class ExportedCorrection(Schema):
    changed_at = fields.AwareDateTime()
    role = fields.String(allow_none=True)
    reason = fields.String()
    changes = fields.Dict(metadata={"description": "{field: {old, new}}"})


class ExportedComplaint(Schema):
    id = fields.String()
    number = fields.String()
    record = fields.Nested(ExportedRecord)
    history = fields.List(fields.Nested(ExportedCorrection))


class ExportOut(Schema):
    request = fields.Nested(PrivacyRequestOut)
    complaints = fields.List(fields.Nested(ExportedComplaint))
