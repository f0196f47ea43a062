"""The complaints notify knows (contact facts) and the requests for messages it has received."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime
from typing import Any

import psycopg

from services.notify.domain.model import ComplaintFacts, Contact, Request
from services.notify.domain.privacy import scrub_data

_UPSERT = (
    "INSERT INTO notify.complaints (id, mall_id, number, channel, category, customer, merchant, floor, department,"
    " promised_reply_date, received_at, updated_at, email_thread) VALUES (%(id)s, %(mall_id)s, %(number)s,"
    " %(channel)s, %(category)s, %(customer)s, %(merchant)s, %(floor)s, %(department)s, %(promised_reply_date)s,"
    " %(received_at)s, %(updated_at)s, %(email_thread)s)"
    " ON CONFLICT (id) DO UPDATE SET number = EXCLUDED.number, channel = EXCLUDED.channel,"
    " category = EXCLUDED.category, customer = EXCLUDED.customer, merchant = EXCLUDED.merchant,"
    " floor = EXCLUDED.floor, department = EXCLUDED.department,"
    " promised_reply_date = EXCLUDED.promised_reply_date, received_at = EXCLUDED.received_at,"
    " updated_at = EXCLUDED.updated_at,"
    # a correction does not repeat the thread: the first message stays what it was
    " email_thread = coalesce(EXCLUDED.email_thread, notify.complaints.email_thread)"
    # An erased complaint is never filled in again, and an older event (a complaint.received that
    # arrives after the correction it preceded) never overwrites a newer one.
    " WHERE notify.complaints.erased_at IS NULL AND notify.complaints.updated_at <= EXCLUDED.updated_at"
)

# A request and its complaint: kept planned when the complaint is known, else waiting for it.
_KEEP = (
    "WITH complaint AS (SELECT * FROM notify.complaints WHERE id = %(complaint_id)s),"
    " kept AS (INSERT INTO notify.requests (id, mall_id, complaint_id, kind, recipient, number, element_id,"
    " data, department, requested_at, state, planned_at) VALUES (%(id)s, %(mall_id)s, %(complaint_id)s,"
    " %(kind)s, %(recipient)s, %(number)s, %(element_id)s, %(data)s, %(department)s, %(at)s,"
    " CASE WHEN EXISTS (SELECT 1 FROM complaint) THEN 'planned' ELSE 'waiting' END,"
    " CASE WHEN EXISTS (SELECT 1 FROM complaint) THEN %(at)s::timestamptz END)"
    " ON CONFLICT (id) DO NOTHING RETURNING id)"
    " SELECT EXISTS (SELECT 1 FROM kept) AS added, complaint.* FROM (SELECT 1) AS one LEFT JOIN complaint ON true"
)


class ComplaintRepository:
    def __init__(self, conn: psycopg.Connection):
        self.conn = conn

    def save(self, facts: ComplaintFacts, as_of: datetime) -> None:
        """Keep the facts as an event of `as_of` (its occurred_at) told them."""
        row = {**asdict(facts), "updated_at": as_of}
        row["customer"] = json.dumps(asdict(facts.customer), ensure_ascii=False)
        row["merchant"] = json.dumps(facts.merchant, ensure_ascii=False) if facts.merchant else None
        row["email_thread"] = (
            json.dumps(facts.email_thread, ensure_ascii=False) if facts.email_thread else None
        )
        self.conn.execute(_UPSERT, row)

    def get(self, complaint_id: str) -> ComplaintFacts | None:
        row = self.conn.execute("SELECT * FROM notify.complaints WHERE id = %s", (complaint_id,)).fetchone()
        return _complaint(row) if row else None

    def erase(self, complaint_ids: list[str], now: datetime) -> list[str]:
        """Drop the customer's personal data; return the ids this service knew."""
        rows = self.conn.execute(
            "UPDATE notify.complaints SET customer = customer - 'name' - 'phone' - 'email' - 'address',"
            " erased_at = coalesce(erased_at, %s) WHERE id = ANY(%s::uuid[]) RETURNING id",
            (now, complaint_ids),
        ).fetchall()
        return [str(row["id"]) for row in rows]


class RequestRepository:
    def __init__(self, conn: psycopg.Connection):
        self.conn = conn

    def keep(self, request: Request, at: datetime) -> tuple[bool, ComplaintFacts | None]:
        """Keep the request, `planned` at `at` when its complaint is known, else `waiting` for it, by
        one statement that also reads the complaint: (whether the request is new, the complaint)."""
        row = self.conn.execute(
            _KEEP,
            {
                "id": request.id,
                "mall_id": request.mall_id,
                "complaint_id": request.complaint_id,
                "kind": request.kind,
                "recipient": request.to,
                "number": request.number,
                "element_id": request.element_id,
                "data": json.dumps(request.data, ensure_ascii=False, default=str),
                "department": request.department,
                "at": at,
            },
        ).fetchone()
        complaint = {key: value for key, value in row.items() if key != "added"}
        return row["added"], _complaint(complaint) if complaint["id"] is not None else None

    def get(self, request_id: str) -> Request | None:
        row = self.conn.execute("SELECT * FROM notify.requests WHERE id = %s", (request_id,)).fetchone()
        return _request(row) if row else None

    def lock_for(self, complaint_id: str) -> None:
        """Hold the complaint's requests until this transaction ends: a request that found no
        complaint and the complaint's arrival, taken by two workers at once, each wait for the
        other's commit instead of both missing what the other was writing."""
        self.conn.execute(
            "SELECT pg_advisory_xact_lock(hashtext('notify.requests'), hashtext(%s))", (complaint_id,)
        )

    def waiting_for(self, complaint_id: str) -> list[Request]:
        rows = self.conn.execute(
            "SELECT * FROM notify.requests WHERE complaint_id = %s AND state = 'waiting'"
            " ORDER BY requested_at FOR UPDATE",
            (complaint_id,),
        ).fetchall()
        return [_request(row) for row in rows]

    def mark(self, request_id: str, state: str, at: datetime) -> None:
        self.conn.execute(
            "UPDATE notify.requests SET state = %s, planned_at = %s WHERE id = %s", (state, at, request_id)
        )

    def take_overdue_waiting(self, before: datetime, limit: int = 50) -> list[Request]:
        """Requests whose complaint never came, locked for this transaction (other workers skip them)."""
        rows = self.conn.execute(
            "SELECT * FROM notify.requests WHERE state = 'waiting' AND requested_at < %s"
            " ORDER BY requested_at LIMIT %s FOR UPDATE SKIP LOCKED",
            (before, limit),
        ).fetchall()
        return [_request(row) for row in rows]

    def of_complaint(self, complaint_id: str) -> list[dict[str, Any]]:
        return self.conn.execute(
            "SELECT id, kind, recipient, number, element_id, requested_at, state, planned_at"
            " FROM notify.requests WHERE complaint_id = %s ORDER BY requested_at, seq",
            (complaint_id,),
        ).fetchall()

    def erase(self, complaint_ids: list[str], known: dict[str, list[str]]) -> list[str]:
        """Contact details out of the free text the diagram sent (replies, notes); `known`: the
        customer's own name, phone … per complaint, found wherever they are written."""
        rows = self.conn.execute(
            "SELECT id, complaint_id, data FROM notify.requests WHERE complaint_id = ANY(%s::uuid[]) FOR UPDATE",
            (complaint_ids,),
        ).fetchall()
        for row in rows:
            self.conn.execute(
                "UPDATE notify.requests SET data = %s WHERE id = %s",
                (
                    json.dumps(
                        scrub_data(row["data"], *known.get(str(row["complaint_id"]), [])), ensure_ascii=False
                    ),
                    row["id"],
                ),
            )
        return sorted({str(row["complaint_id"]) for row in rows})


def _request(row: dict[str, Any]) -> Request:
    return Request(
        id=str(row["id"]),
        mall_id=row["mall_id"],
        complaint_id=str(row["complaint_id"]),
        kind=row["kind"],
        to=row["recipient"],
        number=row["number"],
        element_id=row["element_id"],
        data=row["data"] or {},
        department=row["department"],
    )


def _complaint(row: dict[str, Any]) -> ComplaintFacts:
    return ComplaintFacts(
        id=str(row["id"]),
        mall_id=row["mall_id"],
        number=row["number"],
        channel=row["channel"],
        customer=Contact.of(row["customer"]),
        merchant=row["merchant"],
        floor=row["floor"],
        department=row["department"],
        category=row["category"],
        promised_reply_date=row["promised_reply_date"],
        received_at=row["received_at"],
        email_thread=row["email_thread"],
    )
