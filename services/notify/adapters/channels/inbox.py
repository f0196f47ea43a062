"""Channels that end in notify's own database: the staff inbox, and letters for the desk to print.

Each item is keyed by (delivery, user), so a delivery attempted again after a crash adds nothing.
"""

from __future__ import annotations

import uuid

from psycopg_pool import ConnectionPool

from services.common import i18n as vocabulary
from services.common.clock import Clock
from services.common.db import each_statement_alone
from services.notify.adapters.channels import OutgoingMessage, PermanentFailure
from services.notify.adapters.staff import StaffDirectory
from services.notify.domain.model import STAFF_LANGUAGE

_ADD = (
    "INSERT INTO notify.inbox_items (id, mall_id, username, delivery_id, complaint_id, number, kind, title,"
    " body, link, created_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
    " ON CONFLICT (delivery_id, username) DO NOTHING"
)
PRINT_KIND = "letter_to_print"


class InboxChannel:
    """The message appears in one staff member's inbox (address = username)."""

    def __init__(self, pool: ConnectionPool, clock: Clock):
        self.pool = pool
        self.clock = clock

    def send(self, message: OutgoingMessage) -> str:
        item = (
            uuid.uuid4(),
            message.mall_id,
            message.address,
            message.delivery_id,
            message.complaint_id,
            message.number,
            message.kind,
            message.subject,
            message.text,
            None,
            self.clock.now(),
        )
        with each_statement_alone(self.pool) as conn:
            conn.execute(_ADD, item)
        return f"in the inbox of {message.address}"

    def close(self) -> None:
        pass


class LetterChannel:
    """A letter to post: every service-desk member finds it in their inbox with the PDF to print."""

    def __init__(self, pool: ConnectionPool, clock: Clock):
        self.pool = pool
        self.clock = clock

    def send(self, message: OutgoingMessage) -> str:
        with self.pool.connection() as conn:
            desk = [
                member.username for member in StaffDirectory(conn).holders(message.mall_id, "service_desk")
            ]
            if not desk:
                raise PermanentFailure("no service-desk staff to print and post the letter")
            title = vocabulary.term("wording", "letter_to_print", STAFF_LANGUAGE).format(
                subject=message.subject
            )
            link = f"/notify/deliveries/{message.delivery_id}/letter.pdf" if message.pdf else None
            for username in desk:
                conn.execute(
                    _ADD,
                    (
                        uuid.uuid4(),
                        message.mall_id,
                        username,
                        message.delivery_id,
                        message.complaint_id,
                        message.number,
                        PRINT_KIND,
                        title,
                        message.text,
                        link,
                        self.clock.now(),
                    ),
                )
        return f"letter queued for printing by the service desk ({len(desk)} told)"

    def close(self) -> None:
        pass
