"""CAPA records: opened by a recurring problem, then kept by the operations manager."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import psycopg
from psycopg import sql

from services.common.listing import Where
from services.reporting.domain.capa import EDITABLE, CapaStatus, Occurrence

LIST_LIMIT_MAX = 200
_GET = "SELECT * FROM reporting.capa WHERE mall_id = %s AND id = %s"
_GET_FOR_UPDATE = _GET + " FOR UPDATE"


class CapaStore:
    def __init__(self, conn: psycopg.Connection):
        self.conn = conn

    def lock_problem(self, mall_id: str, problem_key: str) -> None:
        """Serialise the recurrence check of one problem, so two workers never both miss or both open it."""
        self.conn.execute(
            "SELECT pg_advisory_xact_lock(hashtext('reporting.problem'), hashtext(%s))",
            (f"{mall_id}|{problem_key}",),
        )

    def current(self, mall_id: str, problem_key: str) -> dict[str, Any] | None:
        """The id and first receipt of the problem's open record, if one is open. Not its lists of
        complaints: every event of every case of the problem asks, and they grow with the problem."""
        return self.conn.execute(
            "SELECT id, first_received_at FROM reporting.capa"
            " WHERE mall_id = %s AND problem_key = %s AND status <> 'verified'",
            (mall_id, problem_key),
        ).fetchone()

    def last_verified_until(self, mall_id: str, problem_key: str) -> datetime | None:
        """The receipt of the newest complaint a verified record covered: later ones are new occurrences."""
        row = self.conn.execute(
            "SELECT max(last_received_at) AS until FROM reporting.capa"
            " WHERE mall_id = %s AND problem_key = %s AND status = 'verified'",
            (mall_id, problem_key),
        ).fetchone()
        return row["until"]

    def open(
        self, mall_id: str, problem_key: str, place: dict[str, Any], run: list[Occurrence], at: datetime
    ) -> dict[str, Any] | None:
        """Open a record for the run; None when one is open already (the unique index decides)."""
        return self.conn.execute(
            "INSERT INTO reporting.capa (id, mall_id, problem_key, category, merchant_code, merchant_name, floor,"
            " department, complaint_ids, numbers, first_received_at, last_received_at, status, opened_at,"
            " updated_at) VALUES (%(id)s, %(mall_id)s, %(key)s, %(category)s, %(merchant_code)s,"
            " %(merchant_name)s, %(floor)s, %(department)s, %(ids)s, %(numbers)s, %(first)s, %(last)s, 'open',"
            " %(at)s, %(at)s) ON CONFLICT DO NOTHING RETURNING *",
            {
                "id": uuid.uuid4(),
                "mall_id": mall_id,
                "key": problem_key,
                **place,
                "at": at,
                "ids": [item.complaint_id for item in run],
                "numbers": [item.number or "" for item in run],
                "first": run[0].received_at,
                "last": run[-1].received_at,
            },
        ).fetchone()

    def add_occurrence(self, capa_id: str, occurrence: Occurrence) -> None:
        """A further complaint of a problem whose record is open joins that record."""
        self.conn.execute(
            "UPDATE reporting.capa SET complaint_ids = complaint_ids || %(id)s::text,"
            " numbers = numbers || %(number)s::text, first_received_at = least(first_received_at, %(at)s), last_received_at = greatest(last_received_at, %(at)s)"
            " WHERE id = %(capa)s AND NOT %(id)s::text = ANY(complaint_ids)",
            {
                "capa": capa_id,
                "id": occurrence.complaint_id,
                "number": occurrence.number or "",
                "at": occurrence.received_at,
            },
        )

    def get(self, mall_id: str, capa_id: str, for_update: bool = False) -> dict[str, Any] | None:
        return self.conn.execute(_GET_FOR_UPDATE if for_update else _GET, (mall_id, capa_id)).fetchone()

    def list(
        self,
        mall_id: str,
        status: str | None,
        limit: int,
        after: tuple[datetime, str] | None,
        scope: tuple[tuple[str, ...], tuple[str, ...]] | None,
    ) -> list[dict[str, Any]]:
        where = Where(mall_id=mall_id).equal("status", status or None)
        where.keyset("opened_at", after, newest_first=True)
        where.in_scope(*(scope or (None, None)))
        statement = sql.SQL(
            "SELECT * FROM reporting.capa WHERE {} ORDER BY opened_at DESC, id DESC LIMIT %(limit)s"
        ).format(where.clause())
        return self.conn.execute(statement, {**where.params, "limit": min(limit, LIST_LIMIT_MAX)}).fetchall()

    def update(
        self, capa_id: str, changes: dict[str, Any], status: str, by: str, at: datetime
    ) -> dict[str, Any]:
        values = {name: changes[name] for name in EDITABLE if name in changes}
        assignments = [
            sql.SQL("{} = {}").format(sql.Identifier(name), sql.Placeholder(name)) for name in values
        ]
        if status == CapaStatus.VERIFIED:
            assignments.append(sql.SQL("verified_at = %(at)s, verified_by = %(by)s"))
        statement = sql.SQL(
            "UPDATE reporting.capa SET {}status = %(status)s, updated_at = %(at)s, updated_by = %(by)s,"
            " version = version + 1 WHERE id = %(id)s RETURNING *"
        ).format(sql.SQL("").join(sql.SQL("{}, ").format(item) for item in assignments))
        return self.conn.execute(
            statement, {**values, "status": status, "by": by, "at": at, "id": capa_id}
        ).fetchone()
