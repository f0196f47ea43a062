"""Turning a validated request into a RecordComplaint command (desk and web form alike), and a
refused one into the errors of its every field."""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable
from typing import Any

from flask import current_app
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException

from services.common.errors import InvalidInput
from services.common.identity.model import Identity
from services.common.web import current_identity
from services.intake.domain.commands import CheckComplaint, RecordComplaint
from services.intake.domain.field_errors import merged
from services.intake.domain.model import Category, Channel, Customer, ReplyChannel, customer_requests
from services.intake.entrypoints.access import PUBLIC_ACTOR


def bus():
    return current_app.extensions["intake.bus"]


def _fingerprint(route: str, data: dict) -> str:
    canonical = json.dumps({"route": route, "body": data}, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def record_command(data: dict, actor: Identity | None, key: str | None, route: str) -> RecordComplaint:
    """The command a request asks for; of a refused request's readable part (`with_rule_errors`), the
    draft, whose missing required fields are None."""
    customer = dict(data.get("customer", {}))
    reply = customer.get("preferred_reply_channel")
    customer["preferred_reply_channel"] = ReplyChannel(reply) if reply else None
    return RecordComplaint(
        channel=Channel(data.get("channel", Channel.WEB)),
        category=Category(data["category"]) if "category" in data else None,
        customer=Customer(**customer),
        description=data.get("description", ""),
        actor_id=actor.subject if actor else PUBLIC_ACTOR,
        actor_role=sorted(actor.roles)[0] if actor else None,
        occurred_at=data.get("occurred_at"),
        floor=data.get("floor"),
        merchant_code=data.get("merchant_code"),
        department=data.get("department"),
        about_department_manager=data.get("about_department_manager", False),
        handle_directly=data.get("handle_directly", False),
        customer_request=customer_requests(data.get("customer_request")),
        amount=data.get("amount"),
        people_count=data.get("people_count", 1),
        injury=data.get("injury", False),
        media_exposure=data.get("media_exposure", False),
        lawsuit=data.get("lawsuit", False),
        promised_reply_date=data.get("promised_reply_date"),
        consented=data.get("consent", False),
        idempotency_key=key,
        fingerprint=_fingerprint(route, data) if key else None,
    )


def replay_headers(recorded) -> dict:
    return {"Idempotent-Replayed": "true"} if recorded.replayed else {}


def with_rule_errors(route: str, authenticated: bool = True) -> Callable:
    """A complaint's body refused by its schema is also judged by the intake rules over what could be
    read, so the desk (or the customer) learns every problem in one answer instead of the rules'
    only after the schema's. Put it between the role check and the body's `arguments`."""

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def judged(*args, **kwargs):
            try:
                return view(*args, **kwargs)
            except HTTPException as refused:
                error = getattr(refused, "exc", None)  # what webargs' abort keeps of the refusal
                if not _refused_body(error):
                    raise
                actor = current_identity() if authenticated else None
                raise _every_error(error, record_command(error.valid_data, actor, None, route)) from None

        return judged

    return decorate


def _refused_body(error: Any) -> bool:
    """Whether the schema refused some of the JSON body's fields: not its headers, nor a body it could
    not read at all (`_schema`: no object), where no field was even looked at."""
    return (
        isinstance(error, ValidationError)
        and isinstance(error.messages.get("json"), dict)
        and "_schema" not in error.messages["json"]
        and isinstance(error.valid_data, dict)
    )


def _every_error(error: ValidationError, draft: RecordComplaint) -> InvalidInput:
    refused = flatten(error.messages["json"])
    # `customer._schema`: the customer was no object, so none of its fields could be read
    unread = frozenset(name.removesuffix("._schema") for name in refused)
    errors = merged(refused, bus().handle(CheckComplaint(draft, unread)))
    return InvalidInput("the request has invalid fields: " + ", ".join(errors), errors)


def flatten(nested: Any, prefix: str = "") -> dict[str, list[str]]:
    """marshmallow's {"customer": {"phone": [...]}} as {"customer.phone": [...]}, as the rules name fields."""
    if not isinstance(nested, dict):
        return {prefix or "_schema": list(nested) if isinstance(nested, list) else [str(nested)]}
    flat: dict[str, list[str]] = {}
    for key, value in nested.items():
        flat.update(flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    return flat
