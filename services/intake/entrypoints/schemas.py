"""HTTP request and response schemas; input is strict (unknown fields are refused)."""

from __future__ import annotations

from typing import ClassVar

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from services.common import i18n as vocabulary
from services.common.web.schemas import Pattern, StrictBoolean, StrictSchema, each_once, not_blank, plain_name
from services.intake.domain.model import Category, Channel, CustomerRequest, ReplyChannel, Severity
from services.intake.domain.model import Status as ComplaintStatus
from services.intake.domain.status import STAGES

# A number the desk can call back: a mainland mobile (11 digits, starting with 1), a landline (at
# least 7 digits, with or without its area code), or any number written with its country code (+).
_PHONE_NUMBER = r"\+[0-9][0-9 \-]{6,19}|1(?:[ \-]?[0-9]){10}|[02-9](?:[ \-]?[0-9]){6,18}"
PHONE = Pattern(
    rf"^(?:{_PHONE_NUMBER})$",
    error="not a phone number: a mobile has 11 digits, a landline at least 7 (digits, spaces, dashes, +)",
)
# What finds a customer's complaints in the list: the phone, or the last four digits the receipt and
# the status page ask the customer for.
PHONE_OR_LAST_FOUR = Pattern(
    rf"^(?:[0-9]{{4}}|{_PHONE_NUMBER})$",
    error="a phone number (a mobile has 11 digits, a landline at least 7) or its last four digits",
)
LANGUAGES = ("zh-CN", "en")


# Complaints asked for by id in one list: fifty ids keep the URL near 2 kB, well inside what a
# gateway takes in a request line (nginx: 8 kB).
ID_FILTER_MAX = 50


def _choice(enum) -> validate.OneOf:
    return validate.OneOf([member.value for member in enum])


class Money(fields.Decimal):
    """Yuan as a decimal string with at most two places ("399.00"), so no float rounds the cents.

    The app documents it as an OpenAPI string (`format: decimal`) with this pattern, not a number.
    """

    PATTERN = r"^[0-9]{1,11}(\.[0-9]{1,2})?$"

    def __init__(self, **kwargs):
        super().__init__(places=2, as_string=True, metadata={"pattern": self.PATTERN}, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str):  # a JSON number may already have lost a cent to binary floating point
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


REQUEST_CODES = tuple(member.value for member in CustomerRequest)


def _known_requests(codes: list[str]) -> None:
    unknown = [code for code in dict.fromkeys(codes) if code not in REQUEST_CODES]
    if unknown:
        raise ValidationError(f"unknown {', '.join(map(repr, unknown))}: one of {', '.join(REQUEST_CODES)}")


class CustomerRequests(fields.List):
    """What the customer asks for: one or more codes, each once.

    One code alone (not in a list) is read as a list of it, as clients sent it before a complaint
    could ask for several things. The codes are checked on the list, not by the inner field, so an
    error names `customer_request` itself rather than an item's index.
    """

    def __init__(self, **kwargs):
        super().__init__(
            fields.String(metadata={"enum": REQUEST_CODES}),
            validate=[
                validate.Length(min=1, error="at least one, or leave the field out"),
                _known_requests,
                each_once,
            ],
            metadata={
                "uniqueItems": True,
                "description": "what the customer asks for, one or more codes; null or left out: not given"
                " (a single code alone is read as a list of one)",
            },
            **kwargs,
        )

    def _deserialize(self, value, attr, data, **kwargs):
        return super()._deserialize([value] if isinstance(value, str) else value, attr, data, **kwargs)

    def openapi_property(self, ret: dict) -> None:
        """Documented as it is read: a list of codes, or one code alone."""
        one = ret.pop("items")
        listed = {key: ret.pop(key) for key in ("type", "minItems", "uniqueItems") if key in ret}
        ret["oneOf"] = [{**listed, "items": one, "minItems": 1}, one]


class CustomerIn(StrictSchema):
    name = fields.String(validate=validate.Length(max=100), allow_none=True)
    phone = fields.String(validate=PHONE, allow_none=True)
    email = fields.Email(validate=validate.Length(max=254), allow_none=True)
    address = fields.String(validate=validate.Length(max=300), allow_none=True)
    anonymous = StrictBoolean(load_default=False)
    preferred_reply_channel = fields.String(validate=_choice(ReplyChannel), allow_none=True)
    language = fields.String(validate=validate.OneOf(LANGUAGES), load_default="zh-CN")
    contact_opt_out = StrictBoolean(
        load_default=False,
        metadata={"description": "the customer asked not to be contacted, except for the reply itself"},
    )


class _ComplaintFacts(StrictSchema):
    """Fields the desk and the public web form share."""

    category = fields.String(required=True, validate=_choice(Category))
    description = fields.String(
        required=True,
        validate=not_blank("must not be blank", 5000),
        metadata={"description": "what happened, in the customer's words"},
    )
    occurred_at = fields.AwareDateTime(allow_none=True)
    floor = fields.String(validate=validate.Length(max=20), allow_none=True)
    merchant_code = fields.String(validate=validate.Length(max=40), allow_none=True)
    customer_request = CustomerRequests(allow_none=True)
    amount = Money(validate=validate.Range(min=0, max=10**11), allow_none=True)
    people_count = fields.Integer(strict=True, load_default=1, validate=validate.Range(min=1, max=100000))
    injury = StrictBoolean(load_default=False)


class ComplaintIn(_ComplaintFacts):
    """A complaint recorded by the service desk, from any channel."""

    channel = fields.String(required=True, validate=_choice(Channel))
    customer = fields.Nested(CustomerIn, required=True)
    department = fields.String(validate=validate.Length(max=40), allow_none=True)
    about_department_manager = StrictBoolean(load_default=False)
    handle_directly = StrictBoolean(
        load_default=False, metadata={"description": "the desk can settle it itself (PROCESS.md triage)"}
    )
    media_exposure = StrictBoolean(load_default=False)
    lawsuit = StrictBoolean(load_default=False)
    promised_reply_date = fields.Date(
        allow_none=True,
        metadata={"description": "约定反馈时间; defaults to the policy's delay after receipt"},
    )


class PublicCustomerIn(StrictSchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    phone = fields.String(required=True, validate=PHONE)
    email = fields.Email(validate=validate.Length(max=254), allow_none=True)
    preferred_reply_channel = fields.String(
        validate=validate.OneOf([ReplyChannel.PHONE.value, ReplyChannel.SMS.value, ReplyChannel.EMAIL.value]),
        allow_none=True,
    )
    language = fields.String(validate=validate.OneOf(LANGUAGES), load_default="zh-CN")
    contact_opt_out = StrictBoolean(load_default=False)


class PublicComplaintIn(_ComplaintFacts):
    """A complaint a customer sends from the mall's web form, agreeing to the notice it shows."""

    customer = fields.Nested(PublicCustomerIn, required=True)
    consent = StrictBoolean(
        required=True,
        validate=validate.Equal(
            True, error="the customer must agree to the notice of what is collected and why"
        ),
        metadata={
            "description": "the customer agreed to the form's notice (PIPL): what is collected, why, for "
            "how long, whom to ask for a copy or erasure; only `true` is accepted"
        },
    )


class PublicReceiptOut(Schema):
    number = fields.String()
    received_at = fields.AwareDateTime()
    promised_reply_date = fields.Date()
    upload_token = fields.String(
        metadata={"description": "lets POST /public/attachments add files, two hours"}
    )


class CustomerCorrection(StrictSchema):
    name = fields.String(validate=validate.Length(max=100), allow_none=True)
    phone = fields.String(validate=PHONE, allow_none=True)
    email = fields.Email(validate=validate.Length(max=254), allow_none=True)
    address = fields.String(validate=validate.Length(max=300), allow_none=True)
    preferred_reply_channel = fields.String(validate=_choice(ReplyChannel), allow_none=True)
    language = fields.String(validate=validate.OneOf(LANGUAGES))
    contact_opt_out = StrictBoolean()


class CorrectionIn(StrictSchema):
    """Fields to correct and why; the old values are kept in the complaint's history."""

    OPENAPI: ClassVar = {"minProperties": 2}  # the reason and at least one field to correct

    reason = fields.String(required=True, validate=not_blank("must not be blank", 500))
    category = fields.String(validate=_choice(Category))
    description = fields.String(validate=not_blank("must not be blank", 5000))
    occurred_at = fields.AwareDateTime(allow_none=True)
    floor = fields.String(validate=validate.Length(max=20), allow_none=True)
    merchant_code = fields.String(validate=validate.Length(max=40), allow_none=True)
    department = fields.String(validate=validate.Length(max=40), allow_none=True)
    about_department_manager = StrictBoolean()
    handle_directly = StrictBoolean()
    customer_request = CustomerRequests(allow_none=True)
    amount = Money(validate=validate.Range(min=0, max=10**11), allow_none=True)
    people_count = fields.Integer(strict=True, validate=validate.Range(min=1, max=100000))
    injury = StrictBoolean()
    media_exposure = StrictBoolean()
    lawsuit = StrictBoolean()
    promised_reply_date = fields.Date(
        metadata={
            "description": "约定反馈时间 typed wrongly: only on the day of intake (in the mall's zone); later, a "
            "new date is a postponement the customer agrees to (the case's agree_reply_date task)"
        }
    )
    customer = fields.Nested(CustomerCorrection)

    @validates_schema
    def needs_a_change(self, data, **_kwargs):
        if set(data) <= {"reason"}:
            raise ValidationError("name at least one field to correct", field_name="_schema")


class IdempotencyHeader(Schema):
    class Meta:
        unknown = "exclude"

    idempotency_key = fields.String(
        data_key="Idempotency-Key",
        validate=Pattern(r"^[\x21-\x7e]{1,200}$", error="1 to 200 visible ASCII characters"),
        metadata={"description": "a retried POST with the same key returns the first result"},
    )


class CustomerOut(Schema):
    name = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    email = fields.String(allow_none=True)
    address = fields.String(allow_none=True)
    anonymous = fields.Boolean()
    preferred_reply_channel = fields.String(allow_none=True)
    language = fields.String()
    contact_opt_out = fields.Boolean()
    masked = fields.Boolean(metadata={"description": "personal data is masked for this caller"})


class MerchantRef(Schema):
    code = fields.String()
    shop_name = fields.String()
    floor = fields.String()
    unit = fields.String(allow_none=True)
    person_in_charge = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)


class ComplaintOut(Schema):
    id = fields.String()
    number = fields.String()
    channel = fields.String()
    category = fields.String()
    severity = fields.String(validate=_choice(Severity))
    major_reasons = fields.List(fields.String())
    status = fields.String(validate=_choice(ComplaintStatus))
    customer = fields.Nested(CustomerOut)
    occurred_at = fields.AwareDateTime(allow_none=True)
    received_at = fields.AwareDateTime()
    received_by = fields.String()
    floor = fields.String(allow_none=True)
    merchant = fields.Nested(MerchantRef, allow_none=True)
    department = fields.String(allow_none=True)
    about_department_manager = fields.Boolean()
    handle_directly = fields.Boolean()
    description = fields.String()
    customer_request = fields.List(
        fields.String(), allow_none=True, metadata={"description": "null: not given"}
    )
    amount = Money(allow_none=True)
    people_count = fields.Integer()
    injury = fields.Boolean()
    media_exposure = fields.Boolean()
    lawsuit = fields.Boolean()
    promised_reply_date = fields.Date()
    consented_at = fields.AwareDateTime(
        allow_none=True,
        metadata={"description": "when the customer agreed to the web form's notice; null: not asked"},
    )
    version = fields.Integer()
    stage = fields.String(
        metadata={
            "description": "received, handling, replied or closed (the `stage` filter): "
            "the status the list, the case page and the customer read"
        }
    )
    reply_date_postponed_to = fields.Date(
        allow_none=True,
        metadata={"description": "the reply date agreed later with the customer, if postponed (null: none)"},
    )


class ComplaintPage(Schema):
    items = fields.List(fields.Nested(ComplaintOut))
    next_cursor = fields.String(
        allow_none=True, metadata={"description": "pass as `cursor` for the next page"}
    )


class StrictQueryBoolean(fields.Boolean):
    """`true` or `false` in a query string; anything else is refused."""

    truthy: ClassVar[set[str]] = {"true"}
    falsy: ClassVar[set[str]] = {"false"}


class ListArgs(StrictSchema):
    status = fields.String(validate=_choice(ComplaintStatus))
    category = fields.String(validate=_choice(Category))
    channel = fields.String(validate=_choice(Channel))
    severity = fields.String(validate=_choice(Severity))
    floor = fields.String(validate=validate.Length(max=20))
    merchant = fields.String(validate=validate.Length(max=40))
    department = fields.String(validate=validate.Length(max=40))
    received_from = fields.Date(metadata={"description": "first day (mall's time zone), inclusive"})
    received_to = fields.Date(metadata={"description": "last day (mall's time zone), inclusive"})
    phone = fields.String(
        validate=PHONE_OR_LAST_FOUR,
        metadata={"description": "the customer's phone, however typed, or its last four digits"},
    )
    overdue = StrictQueryBoolean(
        metadata={"description": "true: only cases with an open task past its due time"}
    )
    stage = fields.String(
        validate=validate.OneOf(STAGES),
        metadata={
            "description": "where the case is, as the customers' status page says it: "
            "received (no task yet), handling, replied, closed"
        },
    )
    id = fields.List(
        fields.UUID(),
        validate=validate.Length(min=1, max=ID_FILTER_MAX),
        metadata={
            "description": f"only these complaints (repeat `id`, at most {ID_FILTER_MAX}): "
            "a task queue shows what its cases are about"
        },
    )
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))
    cursor = fields.String(validate=validate.Length(max=200))


class HistoryEntry(Schema):
    changed_at = fields.AwareDateTime()
    changed_by = fields.String()
    role = fields.String(allow_none=True)
    reason = fields.String()
    changes = fields.Dict()


class FloorSchema(StrictSchema):
    code = fields.String(dump_only=True)
    name = fields.String(required=True, validate=plain_name(50))
    name_en = fields.String(allow_none=True, validate=plain_name(50))
    sort_order = fields.Integer(
        strict=True,  # a whole number: 2.6e-42 is not read as 0
        load_default=0,
        validate=validate.Range(min=-100, max=1000),
        metadata={"description": "floors are listed by it, lowest first"},
    )


class DepartmentSchema(StrictSchema):
    code = fields.String(dump_only=True)
    name = fields.String(required=True, validate=plain_name(50))
    name_en = fields.String(allow_none=True, validate=plain_name(50))


class MerchantSchema(StrictSchema):
    code = fields.String(dump_only=True)
    shop_name = fields.String(required=True, validate=plain_name(100))
    shop_name_en = fields.String(allow_none=True, validate=plain_name(100))
    floor = fields.String(required=True, validate=validate.Length(min=1, max=20))
    unit = fields.String(allow_none=True, validate=validate.Length(max=20))
    business = fields.String(allow_none=True, validate=validate.Length(max=50))
    person_in_charge = fields.String(allow_none=True, validate=validate.Length(max=50))
    phone = fields.String(allow_none=True, validate=PHONE)
    active = StrictBoolean(load_default=True)


class MerchantArgs(StrictSchema):
    floor = fields.String(validate=validate.Length(max=20))


class PublicMerchant(Schema):
    code = fields.String()
    shop_name = fields.String()
    shop_name_en = fields.String(allow_none=True)
    floor = fields.String()
    unit = fields.String(allow_none=True)


class PublicReference(Schema):
    floors = fields.List(fields.Nested(FloorSchema))
    departments = fields.List(fields.Nested(DepartmentSchema))
    merchants = fields.List(fields.Nested(PublicMerchant))


REFERENCE_CODE = Pattern(r"^[A-Za-z0-9_\-]{1,40}$")


class StatusLookupIn(StrictSchema):
    """The customers' status page: the complaint's number and the last four digits of the phone, or the
    e-mail address the complaint gave."""

    number = fields.String(
        required=True,
        validate=validate.Length(min=1, max=40, error=vocabulary.term("status_page", "number_missing")),
    )
    contact = fields.String(
        required=True,
        validate=validate.Length(min=4, max=254, error=vocabulary.term("status_page", "contact_missing")),
        metadata={"description": "the last four digits of the phone, or the e-mail address"},
    )
    lang = fields.String(load_default="zh-CN", validate=validate.OneOf(LANGUAGES))


class StatusOut(Schema):
    number = fields.String()
    stage = fields.String(metadata={"enum": ["received", "handling", "replied", "closed"]})
    status = fields.String(metadata={"description": "the stage in the customer's words"})
    next_step = fields.String()
    promised_reply_date = fields.String(metadata={"format": "date"})
    replied_on = fields.String(
        allow_none=True,
        metadata={"format": "date", "description": "the day the customer was answered (null: not yet)"},
    )


class ReplyTemplateIn(StrictSchema):
    """A canned reply: the desk picks it on the reply task for a complaint of its category, then edits it."""

    category = fields.String(required=True, validate=_choice(Category))
    title = fields.String(
        required=True,
        validate=plain_name(60),
        metadata={"description": "the name the desk picks it by; one per category among those in use"},
    )
    body = fields.String(
        required=True,
        validate=not_blank("must not be blank", 2000),
        metadata={"description": "the reply text the desk starts from"},
    )


class ReplyTemplateChange(ReplyTemplateIn):
    """Any of category, title and body; `version` (as read) refuses a change made meanwhile by someone else."""

    category = fields.String(validate=_choice(Category))
    title = fields.String(validate=plain_name(60))
    body = fields.String(validate=not_blank("must not be blank", 2000))
    version = fields.Integer(strict=True, validate=validate.Range(min=1))


class ReplyTemplateArgs(StrictSchema):
    category = fields.String(validate=_choice(Category))
    include_retired = fields.Boolean(load_default=False)


class ReplyTemplateOut(Schema):
    id = fields.Integer()
    category = fields.String()
    title = fields.String()
    body = fields.String()
    retired = fields.Boolean()
    created_at = fields.AwareDateTime()
    created_by = fields.String()
    updated_at = fields.AwareDateTime(allow_none=True)
    updated_by = fields.String(allow_none=True)
    version = fields.Integer()
