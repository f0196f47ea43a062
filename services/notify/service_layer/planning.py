"""From a request to delivery rows: who it reaches, on which channel, with which words, and when.

Everything is decided and rendered here, inside the transaction that records the request (or
the complaint it waited for), so a worker only has to send what is written down.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import replace
from datetime import datetime

from services.notify.adapters.deliveries import Delivery, new_delivery_id
from services.notify.adapters.pdf import letter_pdf
from services.notify.domain.model import (
    LETTER_KINDS,
    Audience,
    Channel,
    ComplaintFacts,
    Contact,
    Kind,
    NotSent,
    Recipient,
    Request,
    State,
    quiet_hours_hold,
)
from services.notify.domain.privacy import scrub
from services.notify.domain.wording import template_values
from services.notify.service_layer import events
from services.notify.service_layer.context import Context
from services.notify.service_layer.reaching import recipients_of, warn_of_unnamed_places, without_customer
from services.notify.service_layer.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)
DESK = "service_desk"
_ALERTS = uuid.UUID("6f1c1d1e-3c55-4c1b-9a53-9b8f3b1c0a11")  # namespace of the desk alerts' request ids


def plan_known(
    uow: UnitOfWork, context: Context, request: Request, complaint: ComplaintFacts, marked: bool = False
) -> int:
    """Write the request's deliveries (each once: a unique key) and mark it planned (unless its row
    was written planned: `marked`); return how many are new."""
    now = context.clock.now()
    if request.department:  # another department asked to act: its manager, and its name in the words
        complaint = replace(complaint, department=request.department)
    warn_of_unnamed_places(context, complaint)
    planned = 0
    for target in recipients_of(uow, context, request, complaint):
        if isinstance(target, NotSent):
            planned += _record_not_sent(uow, context, request, complaint, target, now)
        elif uow.deliveries.add(_delivery(context, request, complaint, target, now)):
            planned += 1
    if not marked:
        uow.requests.mark(request.id, "planned", now)
    return planned


def _delivery(
    context: Context, request: Request, complaint: ComplaintFacts, recipient: Recipient, now: datetime
) -> Delivery:
    delivery_id = new_delivery_id()
    language = recipient.language
    today = now.astimezone(context.zone).date()
    received_on = complaint.received_at.astimezone(context.zone).date() if complaint.received_at else None
    values = template_values(
        request,
        complaint,
        recipient,
        context.mall_name(language),
        today,
        received_on,
        status_url=context.status_link(request.number),
        desk_phone=context.desk_phone,
        places=context.places,
        zone=context.zone,
    )
    # A written reply is a letter, by e-mail too; anything sent by post is a letter to print.
    letter = recipient.channel == Channel.LETTER or (
        request.kind in LETTER_KINDS and recipient.channel == Channel.EMAIL
    )
    rendered = context.renderer.render(request.kind, language, values, letter=letter)
    if recipient.channel == Channel.WEBHOOK:
        rendered = without_customer(rendered, complaint)
    pdf = None
    if letter:
        to_lines = (
            tuple(filter(None, (recipient.name, complaint.customer.address)))
            if recipient.channel == Channel.LETTER
            else ()
        )
        pdf = letter_pdf(rendered, values["mall_name"], request.number, values["today"], to_lines)
    return Delivery(
        id=delivery_id,
        request_id=request.id,
        mall_id=request.mall_id,
        complaint_id=request.complaint_id,
        kind=request.kind,
        audience=recipient.audience,
        channel=recipient.channel,
        address=recipient.address,
        language=language,
        message_id=f"<{delivery_id}@{context.mail_domain}>",
        state=State.PENDING,
        created_at=now,
        recipient_name=recipient.name,
        subject=rendered.subject,
        body_text=rendered.text,
        body_html=rendered.html if recipient.channel == Channel.EMAIL else None,
        sms_text=rendered.sms,
        params={**sms_params(values), **thread_headers(complaint, recipient)},
        pdf=pdf,
        next_attempt_at=first_attempt(context, recipient.audience, recipient.channel, now),
        last_error=None,
    )


def _letter(
    rendered, values: dict, request: Request, complaint: ComplaintFacts, recipient: Recipient
) -> bytes | None:
    """The PDF of a letter; a failure to draw it is logged, and the message goes without it."""
    to_lines = (recipient.name, complaint.customer.address) if recipient.channel == Channel.LETTER else ()
    try:
        return letter_pdf(
            rendered, values["mall_name"], request.number, values["today"], tuple(filter(None, to_lines))
        )
    except Exception:  # reportlab refusing some text must not lose the reply itself
        log.exception("the letter's PDF could not be drawn", extra={"number": request.number})
        return None


def sms_params(values: dict) -> dict[str, str]:
    """The parameters an SMS gateway's registered template fills in (and webhooks receive)."""
    return {
        name: str(values.get(name) or "")
        for name in (
            "number",
            "mall_name",
            "promised_reply_date",
            "handler_role",
            "kind",
            "kind_name",
            "new_reply_date",
            "status_url",
        )
    }


def thread_headers(complaint: ComplaintFacts, recipient: Recipient) -> dict[str, str]:
    """An e-mail to the customer of an e-mailed complaint answers in its thread (RFC 5322 3.6.4)."""
    thread = complaint.email_thread or {}
    if (
        recipient.channel != Channel.EMAIL
        or recipient.audience != Audience.CUSTOMER
        or not thread.get("message_id")
    ):
        return {}
    return {"in_reply_to": thread["message_id"], "references": thread["message_id"]}


def first_attempt(context: Context, audience: str, channel: str, now: datetime) -> datetime:
    """Now, or the end of the quiet hours for what rings the phone of someone outside the mall's staff."""
    if not quiet_hours_hold(audience, channel):
        return now
    return context.quiet_hours.release(now, context.zone)


def _record_not_sent(
    uow: UnitOfWork,
    context: Context,
    request: Request,
    complaint: ComplaintFacts,
    why: NotSent,
    now: datetime,
) -> int:
    row = Delivery(
        id=new_delivery_id(),
        request_id=request.id,
        mall_id=request.mall_id,
        complaint_id=request.complaint_id,
        kind=request.kind,
        audience=why.audience,
        channel=Channel.NONE,
        address=why.reason,
        language=complaint.customer.language,
        message_id="",
        created_at=now,
        state=State.FAILED if why.report else State.SUPPRESSED,
        last_error=why.detail,
    )
    if not uow.deliveries.add(row):
        return 0
    if why.report:
        report_failure(uow, context, request, row, why.reason, why.detail)
    return 1


def report_failure(
    uow: UnitOfWork,
    context: Context,
    request: Request,
    delivery: Delivery | None,
    reason: str,
    error: str | None,
    audience: str | None = None,
) -> None:
    """Announce `notification.failed` and tell the desk in its inbox (unless that is what failed)."""
    now = context.clock.now()
    uow.publish(events.failed(request, reason, error, now, delivery, audience))
    if request.kind == Kind.DELIVERY_FAILED:
        return  # a failed alert is not alerted about again: no loops
    # One alert per failure: a delivery the desk retried that fails again is told again.
    key = f"{request.id}:{delivery.id if delivery else reason}:{now.isoformat()}"
    alert = Request(
        id=str(uuid.uuid5(_ALERTS, key)),
        mall_id=request.mall_id,
        complaint_id=request.complaint_id,
        kind=Kind.DELIVERY_FAILED,
        to=DESK,
        number=request.number,
        data={
            "failed_kind": request.kind,
            "failed_audience": delivery.audience if delivery else audience,
            "failed_channel": delivery.channel if delivery and delivery.channel != Channel.NONE else None,
            "error": scrub(error, delivery.address if delivery else None),
            "reason": reason,
        },
    )
    added, complaint = uow.requests.keep(alert, now)
    if added:  # planned at once, with what is known of a complaint notify never heard of
        plan_known(uow, context, alert, complaint or placeholder(request), marked=complaint is not None)


def placeholder(request: Request) -> ComplaintFacts:
    """What is known of a complaint notify never heard of: its number."""
    return ComplaintFacts(
        id=request.complaint_id,
        mall_id=request.mall_id,
        number=request.number,
        channel="",
        customer=Contact(),
    )
