"""Delivery rows and their attempts: planned once per (request, channel, address), claimed by workers.

A worker claims due rows with FOR UPDATE SKIP LOCKED and marks them `sending` with a lease (their
`next_attempt_at`); the send happens outside any transaction; the outcome is recorded in a second
transaction. A worker that dies after sending and before recording leaves the row `sending`: when
the lease runs out another worker takes it again, records the attempt as `interrupted` and sends
the same message (same Message-ID, same delivery id) once more.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import psycopg
from psycopg import sql

from services.notify.adapters.views import LOG_COLUMNS

_COLUMNS = (
    "id",
    "request_id",
    "mall_id",
    "complaint_id",
    "kind",
    "audience",
    "channel",
    "address",
    "recipient_name",
    "language",
    "subject",
    "body_text",
    "body_html",
    "sms_text",
    "params",
    "pdf",
    "message_id",
    "state",
    "attempts",
    "next_attempt_at",
    "created_at",
    "last_error",
)
_INSERT = (
    sql.SQL(
        "INSERT INTO notify.deliveries ({}) VALUES ({}) ON CONFLICT (request_id, channel, address) DO NOTHING"
        " RETURNING id"
    )
    .format(
        sql.SQL(", ").join(map(sql.Identifier, _COLUMNS)), sql.SQL(", ").join(map(sql.Placeholder, _COLUMNS))
    )
    .as_string()
)
# A send's record, when it went out: its attempt, the delivery sent and the event saying so, in one
# statement (a transaction of its own): the delivery moves only with a new attempt's record and only
# while the claim is still this attempt's, and the event is queued only when the delivery moved.
_SENT_WITH_EVENT = (
    "WITH attempt AS (INSERT INTO notify.attempts (delivery_id, attempted_at, outcome, answer, attempt)"
    " VALUES (%(id)s, %(at)s, 'sent', %(answer)s, %(attempt)s) ON CONFLICT DO NOTHING RETURNING id),"
    " moved AS (UPDATE notify.deliveries SET state = 'sent', sent_at = %(at)s, provider_answer = %(answer)s,"
    " last_error = NULL, next_attempt_at = NULL WHERE id = %(id)s AND state = 'sending'"
    " AND attempts = %(attempt)s AND EXISTS (SELECT 1 FROM attempt) RETURNING id),"
    " event AS (INSERT INTO notify.outbox (id, routing_key, envelope) SELECT %(event_id)s::uuid,"
    " %(event_routing_key)s::text, %(event_envelope)s::jsonb FROM moved RETURNING id)"
    " SELECT EXISTS (SELECT 1 FROM attempt) AS recorded, EXISTS (SELECT 1 FROM event) AS published"
)
# Recording an outcome changes the row only while it is still this attempt's (its lease not taken over).
_AGAIN = (
    "UPDATE notify.deliveries SET state = 'pending', next_attempt_at = %s, last_error = coalesce(%s, last_error),"
    " attempts = attempts - %s WHERE id = %s AND state = 'sending' AND attempts = %s RETURNING id"
)
_FAILED = (
    "UPDATE notify.deliveries SET state = 'failed', last_error = %s, next_attempt_at = NULL"
    " WHERE id = %s AND state = 'sending' AND attempts = %s RETURNING id"
)
# Due rows: pending ones whose time has come, and `sending` ones whose lease ran out.
_CLAIM = (
    "WITH due AS (SELECT id, state AS was FROM notify.deliveries WHERE state IN ('pending', 'sending')"
    " AND next_attempt_at <= %(now)s ORDER BY next_attempt_at LIMIT %(limit)s FOR UPDATE SKIP LOCKED)"
    " UPDATE notify.deliveries d SET state = 'sending', attempts = d.attempts + 1, claimed_at = %(now)s,"
    " next_attempt_at = %(lease)s FROM due, notify.requests r WHERE d.id = due.id AND r.id = d.request_id"
    " RETURNING d.*, due.was, r.recipient AS request_to, r.number"
)
_RETRY = sql.SQL(
    "UPDATE notify.deliveries SET state = 'pending', attempts = 0, next_attempt_at = %s"
    " WHERE mall_id = %s AND id = %s AND state = 'failed' AND channel <> 'none' RETURNING {}"
).format(LOG_COLUMNS)


@dataclass
class Delivery:
    """One row of notify.deliveries."""

    id: str
    request_id: str
    mall_id: str
    complaint_id: str
    kind: str
    audience: str
    channel: str
    address: str
    language: str
    message_id: str
    state: str
    created_at: datetime
    recipient_name: str | None = None
    subject: str | None = None
    body_text: str | None = None
    body_html: str | None = None
    sms_text: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    pdf: bytes | None = None
    attempts: int = 0
    next_attempt_at: datetime | None = None
    last_error: str | None = None
    was: str | None = None  # the state before this claim (`sending`: the last attempt was cut off)
    request_to: str | None = None  # the request's `to` and number, read with the claim
    number: str | None = None

    @classmethod
    def of(cls, row: dict[str, Any]) -> Delivery:
        names = cls.__dataclass_fields__
        values = {name: row[name] for name in names if name in row}
        for name in ("id", "request_id", "complaint_id"):
            values[name] = str(values[name])
        if values.get("pdf") is not None:
            values["pdf"] = bytes(values["pdf"])
        return cls(**values)


class DeliveryRepository:
    def __init__(self, conn: psycopg.Connection):
        self.conn = conn
        self.queued = False  # a delivery was planned or retried: the workers have something to send

    def add(self, delivery: Delivery) -> bool:
        """Plan a delivery; False when this request already has one to this address on this channel."""
        row = {name: getattr(delivery, name) for name in _COLUMNS}
        row["params"] = json.dumps(delivery.params, ensure_ascii=False, default=str)
        added = self.conn.execute(_INSERT, row).fetchone() is not None
        self.queued |= added and delivery.state == "pending"
        return added

    def retry(self, mall_id: str, delivery_id: str, at: datetime) -> dict[str, Any] | None:
        """A failed delivery (with an address) back to pending at `at`, its attempts counted afresh;
        the row as the delivery log shows it, or None when it is not such a delivery."""
        row = self.conn.execute(_RETRY, (at, mall_id, delivery_id)).fetchone()
        self.queued |= row is not None
        return row

    def claim_due(self, now: datetime, lease: timedelta, limit: int) -> list[Delivery]:
        rows = self.conn.execute(_CLAIM, {"now": now, "lease": now + lease, "limit": limit}).fetchall()
        return [Delivery.of(row) for row in rows]

    def recent_sends(
        self, keys: list[tuple[str, str]], since: datetime, leaving_out: list[str]
    ) -> dict[tuple[str, str], list[datetime]]:
        """When each (channel, address) was sent to (or taken for sending) since `since`, besides
        the deliveries `leaving_out` (those being decided now)."""
        if not keys:
            return {}
        rows = self.conn.execute(
            "SELECT channel, address, claimed_at FROM notify.deliveries WHERE (channel, address) IN"
            " (SELECT * FROM unnest(%s::text[], %s::text[])) AND state IN ('sending', 'sent')"
            " AND claimed_at > %s AND id <> ALL(%s::uuid[])",
            ([key[0] for key in keys], [key[1] for key in keys], since, leaving_out),
        ).fetchall()
        found: dict[tuple[str, str], list[datetime]] = {}
        for row in rows:
            found.setdefault((row["channel"], row["address"]), []).append(row["claimed_at"])
        return found

    def lock_addresses(self, keys: list[tuple[str, str]]) -> None:
        """Serialise claims to the same address across workers, in one order so none deadlock."""
        for channel, address in sorted(set(keys)):
            self.conn.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (f"{channel}:{address}",)
            )

    def record_sent(
        self, delivery: Delivery, at: datetime, answer: str, event: dict[str, Any]
    ) -> tuple[bool, bool]:
        """The send's attempt, the delivery sent and its event (`OutboxWriter.event_params`), in one
        statement: whether the attempt was new (False: recorded before), and whether the delivery
        moved and the event was queued (False: its lease was taken over)."""
        row = self.conn.execute(
            _SENT_WITH_EVENT,
            {"id": delivery.id, "at": at, "answer": answer[:2000], "attempt": delivery.attempts, **event},
        ).fetchone()
        return row["recorded"], row["published"]

    def again_at(
        self, delivery: Delivery, at: datetime, error: str | None, undo_attempt: bool = False
    ) -> bool:
        """Back to pending until `at` (a retry, or a wait for quiet hours or the rate limit)."""
        return self._finish(_AGAIN, (at, error and error[:2000], 1 if undo_attempt else 0), delivery)

    def failed(self, delivery: Delivery, error: str) -> bool:
        return self._finish(_FAILED, (error[:2000],), delivery)

    def _finish(self, statement: str, values: tuple, delivery: Delivery) -> bool:
        return self.conn.execute(statement, (*values, delivery.id, delivery.attempts)).fetchone() is not None

    def attempt(
        self, delivery_id: str, at: datetime, outcome: str, answer: str | None, attempt: int | None = None
    ) -> bool:
        """Log an attempt; False when claim number `attempt` already has its outcome logged."""
        return (
            self.conn.execute(
                "INSERT INTO notify.attempts (delivery_id, attempted_at, outcome, answer, attempt)"
                " VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING RETURNING id",
                (delivery_id, at, outcome, answer and answer[:2000], attempt),
            ).fetchone()
            is not None
        )

    def states_of_request(self, request_id: str) -> list[str]:
        rows = self.conn.execute("SELECT state FROM notify.deliveries WHERE request_id = %s", (request_id,))
        return [row["state"] for row in rows.fetchall()]

    def get(self, delivery_id: str) -> Delivery | None:
        row = self.conn.execute("SELECT * FROM notify.deliveries WHERE id = %s", (delivery_id,)).fetchone()
        return Delivery.of(row) if row else None


def new_delivery_id() -> str:
    return str(uuid.uuid4())
