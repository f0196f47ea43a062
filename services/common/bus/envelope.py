"""Every event envelope and payload schema, in one module, validated on both ends; `event()` builds one.

The message types themselves, with their fields, are named in `events.py`.

Producers dump through these schemas before writing to the outbox; consumers load with
``unknown=EXCLUDE`` (tolerant reader), so adding a field never breaks an older consumer.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

from services.common.bus.events import (
    CAPA_OPENED,
    COMPLAINT_CORRECTED,
    COMPLAINT_MERGED,
    COMPLAINT_RECEIVED,
    NOTIFICATION_FAILED,
    NOTIFICATION_REQUESTED,
    NOTIFICATION_SENT,
    RETENTION_ERASED,
    RETENTION_ERASURE_REQUESTED,
    STEP_EVENTS,
    TASK_CANCELLED,
    TASK_CLAIMED,
    TASK_COMPLETED,
    TASK_CREATED,
)
from services.common.logging import correlation_id

SCHEMA_VERSION = 1

# Why personal data is erased before the record goes: the retention period ran out, or the customer asked.
ERASURE_BY_RETENTION, ERASURE_ON_REQUEST = "retention", "request"
ERASURE_REASONS = (ERASURE_BY_RETENTION, ERASURE_ON_REQUEST)


@dataclass(frozen=True)
class Actor:
    """Who caused an event: a staff user, a service, or the public web form."""

    id: str
    role: str | None = None


@dataclass(frozen=True)
class Envelope:
    """One event as it travels: identity, type, when, which complaint and mall, who, what."""

    type: str
    mall_id: str
    actor: Actor
    payload: dict[str, Any]
    occurred_at: datetime
    complaint_id: str | None = None
    correlation_id: str | None = None
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    schema_version: int = SCHEMA_VERSION


def event(
    event_type: str,
    *,
    mall_id: str,
    actor: Actor,
    at: datetime,
    payload: dict[str, Any],
    about: str | None = None,
) -> Envelope:
    """The one way to build an event: a new id, and the correlation id of the request or message
    being handled (none outside one). `about` is the complaint the event concerns."""
    return Envelope(
        type=event_type,
        mall_id=mall_id,
        actor=actor,
        payload=payload,
        occurred_at=at,
        complaint_id=about,
        correlation_id=correlation_id.get(),
    )


class ActorSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    id = fields.String(required=True)
    role = fields.String(allow_none=True, load_default=None)


class EnvelopeSchema(Schema):
    """The JSON shape of every message on the events exchange."""

    class Meta:
        unknown = EXCLUDE

    id = fields.UUID(required=True)
    type = fields.String(required=True, validate=validate.Regexp(r"^[a-z_]+(\.[a-z_]+)+$"))
    occurred_at = fields.AwareDateTime(required=True)
    complaint_id = fields.String(allow_none=True, load_default=None)
    mall_id = fields.String(required=True)
    actor = fields.Nested(ActorSchema, required=True)
    correlation_id = fields.String(allow_none=True, load_default=None)
    payload = fields.Dict(required=True)
    schema_version = fields.Integer(required=True, validate=validate.Range(min=1))


class CustomerPayload(Schema):
    class Meta:
        unknown = EXCLUDE

    name = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    email = fields.String(allow_none=True)
    address = fields.String(allow_none=True)
    anonymous = fields.Boolean()
    preferred_reply_channel = fields.String(allow_none=True)
    language = fields.String()
    contact_opt_out = fields.Boolean()


class OneOrMore(fields.List):
    """A list of strings that reads one string alone as a list of it: `customer_request` was a single
    code before a complaint could ask for several, and such events stay in outboxes and queues."""

    def __init__(self, **kwargs):
        super().__init__(fields.String(), **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        return super()._deserialize([value] if isinstance(value, str) else value, attr, data, **kwargs)


class ComplaintPayload(Schema):
    """The complaint record as intake publishes it (received and corrected)."""

    class Meta:
        unknown = EXCLUDE

    id = fields.String(required=True)
    number = fields.String(required=True)
    channel = fields.String(required=True)
    category = fields.String(required=True)
    severity = fields.String(required=True)
    major_reasons = fields.List(fields.String())
    status = fields.String(required=True)
    customer = fields.Nested(CustomerPayload, required=True)
    occurred_at = fields.String(allow_none=True)
    received_at = fields.String(required=True)
    floor = fields.String(allow_none=True)
    merchant = fields.Dict(allow_none=True)
    department = fields.String(allow_none=True)
    about_department_manager = fields.Boolean()
    handle_directly = fields.Boolean()
    description = fields.String(required=True)
    customer_request = OneOrMore(allow_none=True)  # null: not given
    amount = fields.String(allow_none=True)
    people_count = fields.Integer()
    injury = fields.Boolean()
    media_exposure = fields.Boolean()
    lawsuit = fields.Boolean()
    promised_reply_date = fields.String(required=True)
    policy = fields.Dict()
    # An e-mailed complaint's first message: {"message_id": "<…>", "subject": "…"}; replies thread on it.
    email_thread = fields.Dict(keys=fields.String(), values=fields.String(), allow_none=True)


class ComplaintCorrectedPayload(Schema):
    class Meta:
        unknown = EXCLUDE

    complaint = fields.Nested(ComplaintPayload, required=True)
    changes = fields.Dict(required=True)
    reason = fields.String(allow_none=True, load_default=None)  # why the desk corrected it


class ComplaintMergedPayload(Schema):
    """A complaint folded into a collective one: its case closes pointing to it (nothing is erased)."""

    class Meta:
        unknown = EXCLUDE

    number = fields.String(required=True)
    into_id = fields.String(required=True)
    into_number = fields.String(required=True)
    reason = fields.String(required=True)


class TaskPayload(Schema):
    """A human task as routing announces it (created, claimed, completed, cancelled)."""

    class Meta:
        unknown = EXCLUDE

    task_id = fields.String(required=True)
    queue = fields.String(required=True)
    element_id = fields.String(required=True)
    title = fields.String(required=True)
    titles = fields.Dict(keys=fields.String(), values=fields.String(), load_default=dict)  # by language
    number = fields.String(required=True)
    state = fields.String(required=True)
    floor = fields.String(allow_none=True)
    department = fields.String(allow_none=True)
    assignee = fields.String(allow_none=True)
    due_at = fields.String(allow_none=True)
    form = fields.List(fields.Dict())
    instructions = fields.String(allow_none=True)
    data = fields.Dict()


class CaseStepPayload(Schema):
    """A complaint step announced by the diagram (escalated, replied, closed …)."""

    class Meta:
        unknown = EXCLUDE

    number = fields.String(required=True)
    element_id = fields.String(required=True)
    element_name = fields.String(allow_none=True)
    queue = fields.String(allow_none=True)
    data = fields.Dict()


class CapaOpenedPayload(Schema):
    """A recurring problem: a corrective and preventive action record opened for the operations manager."""

    class Meta:
        unknown = EXCLUDE

    capa_id = fields.String(required=True)
    problem_key = fields.String(required=True)
    category = fields.String(required=True)
    merchant_code = fields.String(allow_none=True)
    merchant_name = fields.String(allow_none=True)
    floor = fields.String(allow_none=True)
    department = fields.String(allow_none=True)
    occurrences = fields.Integer(required=True)
    window_days = fields.Integer(required=True)
    complaint_ids = fields.List(fields.String(), required=True)
    numbers = fields.List(fields.String(), required=True)
    queue = fields.String(required=True)  # who owns it: the operations manager


class NotificationRequestedPayload(Schema):
    """A message the diagram asks notify to deliver: what kind, to whom, about which complaint."""

    class Meta:
        unknown = EXCLUDE

    kind = fields.String(required=True)
    to = fields.String(required=True)
    number = fields.String(required=True)
    element_id = fields.String(required=True)
    data = fields.Dict()
    # the department whose manager `to: department_manager` means, when not the complaint's own
    department = fields.String(allow_none=True)


class NotificationSentPayload(Schema):
    """A message notify delivered: which request, to whom (by audience, never the address), how."""

    class Meta:
        unknown = EXCLUDE

    request_id = fields.String(required=True)
    delivery_id = fields.String(required=True)
    kind = fields.String(required=True)
    to = fields.String(required=True)
    number = fields.String(required=True)
    audience = fields.String(required=True)  # customer, merchant or staff
    channel = fields.String(required=True)
    attempts = fields.Integer(required=True)


class NotificationFailedPayload(Schema):
    """A message notify could not deliver, so the desk can act (bad address, nobody to tell …)."""

    class Meta:
        unknown = EXCLUDE

    request_id = fields.String(required=True)
    delivery_id = fields.String(allow_none=True)
    kind = fields.String(required=True)
    to = fields.String(required=True)
    number = fields.String(required=True)
    audience = fields.String(required=True)
    channel = fields.String(allow_none=True)
    attempts = fields.Integer(required=True)
    reason = fields.String(
        required=True
    )  # permanent_error, gave_up, no_contact, no_recipient, complaint_unknown
    error = fields.String(allow_none=True)  # the provider's answer, addresses removed


class ErasureRequestedPayload(Schema):
    """Complaints whose personal data every service must erase: past the retention policy (reporting
    asks), or because their customer asked for it (PIPL, intake asks: `reason` "request")."""

    class Meta:
        unknown = EXCLUDE

    complaint_ids = fields.List(fields.String(), required=True, validate=validate.Length(min=1, max=1000))
    # ISO date: the cut-off a retention request was computed with; none for a customer's request.
    closed_before = fields.String(load_default=None, allow_none=True)
    reason = fields.String(load_default=ERASURE_BY_RETENTION, validate=validate.OneOf(ERASURE_REASONS))
    request_id = fields.String(load_default=None, allow_none=True)  # the customer's request, as audited


class ErasedPayload(Schema):
    """A service's answer: it has erased the personal data it held for these complaints."""

    class Meta:
        unknown = EXCLUDE

    service = fields.String(required=True)
    complaint_ids = fields.List(fields.String(), required=True)


PAYLOAD_SCHEMAS: dict[str, type[Schema]] = {
    COMPLAINT_RECEIVED: ComplaintPayload,
    COMPLAINT_CORRECTED: ComplaintCorrectedPayload,
    COMPLAINT_MERGED: ComplaintMergedPayload,
    CAPA_OPENED: CapaOpenedPayload,
    TASK_CREATED: TaskPayload,
    TASK_CLAIMED: TaskPayload,
    TASK_COMPLETED: TaskPayload,
    TASK_CANCELLED: TaskPayload,
    NOTIFICATION_REQUESTED: NotificationRequestedPayload,
    NOTIFICATION_SENT: NotificationSentPayload,
    NOTIFICATION_FAILED: NotificationFailedPayload,
    RETENTION_ERASURE_REQUESTED: ErasureRequestedPayload,
    RETENTION_ERASED: ErasedPayload,
    **dict.fromkeys(STEP_EVENTS, CaseStepPayload),
}


# Built once: a schema is reusable across calls and threads, and building one costs more than using it.
_ENVELOPE = EnvelopeSchema()
_PAYLOADS = {event_type: schema() for event_type, schema in PAYLOAD_SCHEMAS.items()}


def dump_envelope(envelope: Envelope) -> dict[str, Any]:
    """Validate the payload against its schema and return the JSON-ready envelope."""
    payload_schema = _PAYLOADS.get(envelope.type)
    if payload_schema is not None:
        errors = payload_schema.validate(envelope.payload)
        if errors:
            raise ValidationError(errors, field_name="payload")
    return _ENVELOPE.dump(envelope)


def load_envelope(body: Any) -> Envelope:
    """Parse a received message body; raise ValidationError for a malformed one."""
    data = _ENVELOPE.load(body)
    payload_schema = _PAYLOADS.get(data["type"])
    if payload_schema is not None:
        data["payload"] = payload_schema.load(data["payload"])
    data["id"] = str(data["id"])
    data["actor"] = Actor(**data["actor"])
    return Envelope(**data)
