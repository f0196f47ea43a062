"""What the HTTP API reads: the delivery log of a complaint, failed deliveries, a staff inbox."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg
from psycopg import sql

from services.common.listing import Where

LOG_COLUMNS = sql.SQL(
    "id, request_id, complaint_id, kind, audience, channel, address, recipient_name, language, subject, state,"
    " attempts, next_attempt_at, created_at, sent_at, last_error, provider_answer, message_id,"
    " (pdf IS NOT NULL) AS has_letter"
)
_OF_COMPLAINT = sql.SQL(
    "SELECT {} FROM notify.deliveries WHERE complaint_id = %s ORDER BY created_at, seq"
).format(LOG_COLUMNS)
# With the complaint's number, which the desk reads out and searches by.
_FAILED = sql.SQL(
    "SELECT {}, (SELECT r.number FROM notify.requests r WHERE r.id = d.request_id) AS number"
    " FROM notify.deliveries d WHERE {} ORDER BY created_at DESC, id DESC LIMIT %(limit)s"
)
_MINE = sql.SQL(
    "SELECT id, complaint_id, number, kind, title, body, link, created_at, read_at FROM notify.inbox_items"
    " WHERE {} ORDER BY created_at DESC, id DESC LIMIT %(limit)s"
)


class DeliveryLog:
    def __init__(self, conn: psycopg.Connection):
        self.conn = conn

    def of_complaint(self, complaint_id: str) -> list[dict[str, Any]]:
        """Every delivery of the complaint, each with its attempts, oldest first."""
        deliveries = self.conn.execute(_OF_COMPLAINT, (complaint_id,)).fetchall()
        attempts = self.conn.execute(
            "SELECT a.delivery_id, a.attempted_at, a.outcome, a.answer FROM notify.attempts a"
            " JOIN notify.deliveries d ON d.id = a.delivery_id WHERE d.complaint_id = %s ORDER BY a.id",
            (complaint_id,),
        ).fetchall()
        by_delivery: dict[str, list[dict]] = {}
        for attempt in attempts:
            by_delivery.setdefault(str(attempt.pop("delivery_id")), []).append(attempt)
        return [{**row, "log": by_delivery.get(str(row["id"]), [])} for row in deliveries]

    def failed(self, mall_id: str, limit: int, after: tuple[datetime, str] | None) -> list[dict[str, Any]]:
        """Failed deliveries, newest first (keyset pagination on created_at, id)."""
        where = Where(mall_id=mall_id).add("state = 'failed'").keyset("created_at", after, newest_first=True)
        statement = _FAILED.format(LOG_COLUMNS, where.clause())
        return self.conn.execute(statement, {**where.params, "limit": limit}).fetchall()

    def letter(self, mall_id: str, delivery_id: str) -> dict[str, Any] | None:
        return self.conn.execute(
            "SELECT pdf, complaint_id, kind FROM notify.deliveries WHERE mall_id = %s AND id = %s AND pdf IS NOT NULL",
            (mall_id, delivery_id),
        ).fetchone()


class Inbox:
    """One staff member's notifications."""

    def __init__(self, conn: psycopg.Connection):
        self.conn = conn

    def mine(
        self, mall_id: str, username: str, unread_only: bool, limit: int, after: tuple[datetime, str] | None
    ) -> list[dict[str, Any]]:
        where = Where(mall_id=mall_id, username=username)
        if unread_only:
            where.add("read_at IS NULL")
        where.keyset("created_at", after, newest_first=True)
        statement = _MINE.format(where.clause())
        return self.conn.execute(statement, {**where.params, "limit": limit}).fetchall()

    def unread_count(self, mall_id: str, username: str) -> int:
        return self.conn.execute(
            "SELECT count(*) AS n FROM notify.inbox_items WHERE mall_id = %s AND username = %s AND read_at IS NULL",
            (mall_id, username),
        ).fetchone()["n"]

    def mark_read(self, mall_id: str, username: str, item_id: str, at: datetime) -> dict[str, Any] | None:
        """Mark one of my items read (keeping the first time); None when it is not mine."""
        return self.conn.execute(
            "UPDATE notify.inbox_items SET read_at = coalesce(read_at, %s) WHERE mall_id = %s AND username = %s"
            " AND id = %s RETURNING id, complaint_id, number, kind, title, body, link, created_at, read_at",
            (at, mall_id, username, item_id),
        ).fetchone()
