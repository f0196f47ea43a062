"""Who a request reaches, named as the delivery log shows them, and what a shared channel may carry.

Staff are reached in their inboxes, their department's system and their group's robot; a robot is
named by whose group it is (保洁部群机器人), the floor or department nobody holds by its name.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from services.notify.adapters.templates import Rendered
from services.notify.domain.model import STAFF_LANGUAGE, Audience, ComplaintFacts, NotSent, Recipient, Request
from services.notify.domain.places import DEPARTMENT, FLOOR
from services.notify.domain.privacy import scrub
from services.notify.domain.recipients import (
    DEPARTMENT_SCOPED,
    FLOOR_SCOPED,
    ROBOT,
    customer_recipient,
    merchant_recipient,
    staff_recipients,
)
from services.notify.domain.wording import robot_name, role_name
from services.notify.service_layer.context import Context
from services.notify.service_layer.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)


def recipients_of(
    uow: UnitOfWork, context: Context, request: Request, complaint: ComplaintFacts
) -> list[Recipient | NotSent]:
    if request.to == Audience.CUSTOMER:
        return [customer_recipient(request.kind, complaint)]
    if request.to == Audience.MERCHANT:
        return [merchant_recipient(complaint)]
    staff = uow.staff.holders(request.mall_id, request.to)
    found = staff_recipients(
        request.to,
        complaint,
        staff,
        context.webhooks,
        context.robots,
        _scope_name(context, request.to, complaint),
    )
    return [_named_robot(context, recipient) for recipient in found] if isinstance(found, list) else [found]


def warn_of_unnamed_places(context: Context, complaint: ComplaintFacts) -> None:
    """A floor or department the reference file does not name is left out of the messages: say so."""
    for kind, code in ((FLOOR, complaint.floor), (DEPARTMENT, complaint.department)):
        if code and not context.places.knows(kind, code):
            log.warning(
                "a %s has no name in NOTIFY_REFERENCE_FILE: messages leave it out",
                kind,
                extra={"code": code, "number": complaint.number},
            )


def _scope_name(context: Context, queue: str, complaint: ComplaintFacts) -> str:
    """The floor or department a scoped queue is asked for, by its name (三层, 保安部)."""
    if queue == FLOOR_SCOPED:
        return context.places.name(FLOOR, complaint.floor, STAFF_LANGUAGE)
    if queue == DEPARTMENT_SCOPED:
        return context.places.name(DEPARTMENT, complaint.department, STAFF_LANGUAGE)
    return ""


def _named_robot(context: Context, recipient: Recipient) -> Recipient:
    """A group robot named for the delivery log by whose group it is (保安部群机器人, 营运部经理群机器人)."""
    if not recipient.address.startswith(ROBOT):
        return recipient
    key = recipient.address.removeprefix(ROBOT)
    whose = (
        context.places.name(DEPARTMENT, key, STAFF_LANGUAGE)
        or context.places.name(FLOOR, key, STAFF_LANGUAGE)
        or role_name(key, STAFF_LANGUAGE)
    )
    return replace(recipient, name=robot_name(whose, STAFF_LANGUAGE))


def without_customer(rendered: Rendered, complaint: ComplaintFacts) -> Rendered:
    """What goes to a department's system or a group chat, read by more than the case's handlers: the
    customer's name and contact details taken out of whatever a template put in (as in the desk's
    alerts), whoever wrote the template."""
    customer = complaint.customer
    known = (customer.name, customer.phone, customer.email, customer.address)
    paragraphs = tuple(tuple(scrub(line, *known) for line in lines) for lines in rendered.paragraphs)
    return replace(
        rendered,
        subject=scrub(rendered.subject, *known),
        paragraphs=paragraphs,
        sms=scrub(rendered.sms, *known),
        html="",
    )
