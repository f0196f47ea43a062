"""The customers' status page: look a complaint up by its number and the customer's contact.

A wrong number and a wrong phone (or e-mail) are one and the same miss: the same answer, and each
counts against the client address, which waits longer and longer after a few (adapters/misses.py).
"""

from __future__ import annotations

from datetime import datetime, tzinfo

from services.common import i18n as vocabulary
from services.common.errors import NotFound
from services.intake.adapters.misses import Misses, MissPolicy
from services.intake.adapters.progress import progress_of
from services.intake.domain.status import CustomerStatus, proves_contact, stage_of
from services.intake.service_layer.unit_of_work import UnitOfWork

NOT_FOUND = vocabulary.term("status_page", "not_found")  # one answer for a wrong number or contact


class SlowDown(Exception):
    """Too many misses from this client address: it may look again at `until`."""

    def __init__(self, until: datetime):
        super().__init__(f"too many misses; try again after {until.isoformat()}")
        self.until = until


def look_up(
    uow: UnitOfWork,
    mall_id: str,
    number: str,
    contact: str,
    client: str,
    now: datetime,
    policy: MissPolicy,
    zone: tzinfo,
) -> CustomerStatus:
    """The complaint's status for its customer; NotFound for any miss, SlowDown while waiting."""
    with uow:
        misses = Misses(uow.conn, policy)
        until = misses.blocked_until(mall_id, client, now)
        if until is not None:
            raise SlowDown(until)
        complaint = uow.complaints.get_by_number(mall_id, number.strip().upper())
        customer = complaint.customer if complaint else None
        if customer is None or not proves_contact(customer.phone, customer.email, contact):
            misses.record(mall_id, client, now)
            uow.commit()
            raise NotFound(NOT_FOUND)
        progress = progress_of(uow.conn, complaint.id)
        promised = progress.postponed_to or complaint.promised_reply_date
        stage = stage_of(progress.stage, progress.has_tasks)
        answered = progress.replied_at if stage in ("replied", "closed") else None  # reopened: not yet
        replied_on = answered.astimezone(zone).date() if answered else None
        return CustomerStatus(complaint.number, stage, promised, replied_on)
