"""marshmallow schemas of what reporting answers, for its OpenAPI document."""

from __future__ import annotations

from marshmallow import Schema, fields


class Count(Schema):
    key = fields.String(allow_none=True)
    name = fields.String(allow_none=True)
    unit = fields.String(allow_none=True, metadata={"description": "a shop's unit (3F-005)"})
    count = fields.Integer()


class Share(Schema):
    rate = fields.Float(allow_none=True, metadata={"description": "0..1, null when nothing was measured"})


class OnTime(Share):
    due = fields.Integer()
    on_time = fields.Integer()


class Hours(Schema):
    count = fields.Integer()
    median = fields.Float(allow_none=True)
    p90 = fields.Float(allow_none=True)


class Escalations(Schema):
    total = fields.Integer()
    by_level = fields.List(fields.Nested(Count))


class CallbackFigures(Share):
    calls = fields.Integer()
    reached = fields.Integer()
    satisfied = fields.Integer()


class Reopen(Share):
    closed = fields.Integer()
    reopened = fields.Integer()


class ClosingCount(Schema):
    key = fields.String(metadata={"description": "the option's code, as the close form has it"})
    names = fields.Dict(
        keys=fields.String(),
        values=fields.String(),
        metadata={"description": 'the option\'s name in each language the form gives ("": as drawn)'},
    )
    count = fields.Integer()
    cost = fields.String(metadata={"description": "the cost to the mall of these cases, in yuan (1250.00)"})


class Problem(Schema):
    key = fields.String()
    category = fields.String()
    merchant_code = fields.String(allow_none=True)
    merchant_name = fields.String(allow_none=True)
    merchant_unit = fields.String(allow_none=True)
    floor = fields.String(allow_none=True)
    department = fields.String(allow_none=True)
    count = fields.Integer()


class Day(Schema):
    day = fields.String()
    received = fields.Integer()
    resolved = fields.Integer()


class Figures(Schema):
    received = fields.Integer(metadata={"description": "complaints received in the period"})
    resolved = fields.Integer(
        metadata={"description": "complaints whose standing resolution came in the period"}
    )
    closed = fields.Integer()
    closed_no_answer = fields.Integer(
        metadata={"description": "closed because callbacks never reached the customer"}
    )
    closed_no_contact = fields.Integer(
        metadata={"description": "closed with no reply and no callback: nobody to contact (anonymous)"}
    )
    by_category = fields.List(fields.Nested(Count))
    by_channel = fields.List(fields.Nested(Count))
    by_floor = fields.List(fields.Nested(Count))
    by_merchant = fields.List(fields.Nested(Count))
    by_department = fields.List(fields.Nested(Count))
    by_request = fields.List(
        fields.Nested(Count),
        metadata={
            "description": "complaints received in the period by what the customer asked for (refund,"
            " exchange, repair, compensation, apology, other): one asking for two counts under each"
        },
    )
    cost = fields.String(
        metadata={"description": "the cost to the mall of the cases closed in the period, in yuan (1250.00)"}
    )
    by_responsible_party = fields.List(
        fields.Nested(ClosingCount),
        metadata={
            "description": "cases closed in the period by who was responsible (the close form's choice)"
        },
    )
    by_root_cause = fields.List(
        fields.Nested(ClosingCount),
        metadata={"description": "cases closed in the period by root cause (the close form's choice)"},
    )
    on_time_reply = fields.Nested(OnTime)
    time_to_resolve_hours = fields.Nested(Hours)
    escalations = fields.Nested(Escalations)
    callback = fields.Nested(CallbackFigures)
    reopen = fields.Nested(Reopen)
    top_merchants = fields.List(fields.Nested(Count))
    top_problems = fields.List(fields.Nested(Problem))
    trend = fields.List(fields.Nested(Day))


class PeriodOut(Schema):
    kind = fields.String()
    label = fields.String()
    first_day = fields.String()
    last_day = fields.String(metadata={"description": "today while the period runs (this month so far)"})
    complete = fields.Boolean(metadata={"description": "false while the period runs"})


class ScopeOut(Schema):
    floors = fields.List(fields.String())
    departments = fields.List(fields.String())


class ReportOut(Schema):
    period = fields.Nested(PeriodOut)
    previous_period = fields.Nested(PeriodOut)
    generated_at = fields.String()
    scope = fields.Nested(ScopeOut, allow_none=True)
    current = fields.Nested(Figures)
    previous = fields.Nested(Figures)


class ReviewItem(Schema):
    complaint_id = fields.String()
    number = fields.String(allow_none=True)
    received_at = fields.DateTime(allow_none=True)
    channel = fields.String(allow_none=True)
    category = fields.String(allow_none=True)
    severity = fields.String(allow_none=True)
    floor = fields.String(allow_none=True)
    merchant_code = fields.String(allow_none=True)
    merchant_name = fields.String(allow_none=True)
    department = fields.String(allow_none=True)
    first_queue = fields.String(allow_none=True)
    open_queues = fields.List(fields.String())
    reply_due_at = fields.DateTime(allow_none=True)
    first_replied_at = fields.DateTime(allow_none=True)
    next_task_due_at = fields.DateTime(allow_none=True)
    resolved_at = fields.DateTime(allow_none=True)
    closed_at = fields.DateTime(allow_none=True)
    escalated_to = fields.List(fields.String())


class ReviewList(Schema):
    count = fields.Integer()
    items = fields.List(fields.Nested(ReviewItem))


class DailyOut(Schema):
    date = fields.String()
    as_of = fields.String()
    new = fields.Nested(ReviewList)
    overdue = fields.Nested(ReviewList)
    escalated = fields.Nested(ReviewList)
    resolved = fields.Nested(ReviewList)


class CallbackItem(Schema):
    complaint_id = fields.String()
    number = fields.String(allow_none=True)
    received_at = fields.DateTime(allow_none=True)
    category = fields.String(allow_none=True)
    floor = fields.String(allow_none=True)
    merchant_name = fields.String(allow_none=True)
    merchant_unit = fields.String(allow_none=True)
    customer_request = fields.List(
        fields.String(), metadata={"description": "what the customer asks for: codes, empty when nothing"}
    )
    status = fields.String(metadata={"description": "open or closed"})
    closed_as = fields.String(allow_none=True)
    callback_reached = fields.Boolean(allow_none=True)
    callback_satisfied = fields.Boolean(allow_none=True)
    customer_name = fields.String(allow_none=True)
    customer_phone = fields.String(allow_none=True)
    customer_email = fields.String(allow_none=True)
    preferred_reply_channel = fields.String(allow_none=True)


class CallbackListOut(Schema):
    month = fields.String()
    masked = fields.Boolean(metadata={"description": "true when contact details are shown masked"})
    items = fields.List(fields.Nested(CallbackItem))


class CapaOut(Schema):
    id = fields.String()
    problem_key = fields.String()
    category = fields.String()
    merchant_code = fields.String(allow_none=True)
    merchant_name = fields.String(allow_none=True)
    floor = fields.String(allow_none=True)
    department = fields.String(allow_none=True)
    complaint_ids = fields.List(fields.String())
    numbers = fields.List(fields.String())
    first_received_at = fields.DateTime()
    last_received_at = fields.DateTime()
    status = fields.String()
    cause = fields.String(allow_none=True)
    action = fields.String(allow_none=True)
    owner = fields.String(allow_none=True)
    due_date = fields.Date(allow_none=True)
    verification = fields.String(allow_none=True)
    verified_at = fields.DateTime(allow_none=True)
    verified_by = fields.String(allow_none=True)
    opened_at = fields.DateTime()
    updated_at = fields.DateTime()
    updated_by = fields.String(allow_none=True)
    version = fields.Integer()


class CapaPage(Schema):
    items = fields.List(fields.Nested(CapaOut))
    next_cursor = fields.String(allow_none=True)
