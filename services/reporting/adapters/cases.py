"""The case facts table and its escalations and callbacks, written whole from a case's derived facts."""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from services.common.db import insert_many, run_numbered
from services.common.listing import Where
from services.reporting.domain.capa import Occurrence
from services.reporting.domain.model import CaseFacts

COLUMNS = (
    "complaint_id",
    "mall_id",
    "number",
    "received_at",
    "channel",
    "category",
    "severity",
    "floor",
    "merchant_code",
    "merchant_name",
    "department",
    "first_queue",
    "problem_key",
    "customer_name",
    "customer_phone",
    "customer_email",
    "preferred_reply_channel",
    "anonymous",
    "contact_opt_out",
    "promised_reply_date",
    "reply_due_at",
    "first_replied_at",
    "resolved_at",
    "resolution_count",
    "reopen_count",
    "escalation_count",
    "closed_at",
    "closed_as",
    "outcome",
    "cost",
    "responsible_party",
    "root_cause",
    "outside_route",
    "callback_count",
    "callback_reached",
    "callback_satisfied",
    "open_queues",
    "next_task_due_at",
    "customer_request",
    "merchant_unit",
)
DERIVED_TABLES = ("reporting.callbacks", "reporting.escalations", "reporting.cases")
PERSONAL = ("customer_name", "customer_phone", "customer_email")
# Once retention erased a case, nothing derived later brings its customer back.
_KEEP_ERASED = "CASE WHEN cases.erased_at IS NULL THEN EXCLUDED.{0} END"
# The case's escalations and callbacks, when they are written again from the facts just derived,
# are deleted by the statement that writes the cases: one round trip instead of three.
_DELETE = {
    "escalations": "gone_escalations AS (DELETE FROM reporting.escalations WHERE complaint_id = ANY(%s))",
    "callbacks": "gone_callbacks AS (DELETE FROM reporting.callbacks WHERE complaint_id = ANY(%s))",
}
_INSERT_CASES = sql.SQL("INSERT INTO reporting.cases ({columns}, updated_at) VALUES").format(
    columns=sql.SQL(", ").join(map(sql.Identifier, COLUMNS))
)
_ON_CONFLICT = (
    sql.SQL("ON CONFLICT (complaint_id) DO UPDATE SET {updates}, updated_at = now()")
    .format(
        updates=sql.SQL(", ").join(
            sql.SQL("{0} = " + (_KEEP_ERASED if name in PERSONAL else "EXCLUDED.{0}")).format(
                sql.Identifier(name)
            )
            for name in COLUMNS[1:]
        )
    )
    .as_string()
)


# The names a closed case's form gave its choices, written by the same statement (a CTE).
_NAMES = (
    "named AS (INSERT INTO reporting.closing_names (mall_id, field, code, names) VALUES {}"
    " ON CONFLICT (mall_id, field, code) DO UPDATE SET names = EXCLUDED.names"
    " WHERE closing_names.names IS DISTINCT FROM EXCLUDED.names)"
)


@functools.lru_cache(maxsize=64)
def _upsert(cases: int, escalations: bool, callbacks: bool, names: int = 0) -> str:
    """The rows of `cases` cases (their facts and now()), after deleting the escalations and/or
    callbacks written again, and `names` closing names: one text per shape, so psycopg's prepared
    statements serve it."""
    ctes = [
        _DELETE[name] for name, again in (("escalations", escalations), ("callbacks", callbacks)) if again
    ]
    if names:
        ctes.append(_NAMES.format(", ".join(["(%s, %s, %s, %s)"] * names)))
    row = sql.SQL("({}, now())").format(sql.SQL(", ").join([sql.Placeholder()] * len(COLUMNS)))
    insert = sql.SQL("{} {} {}").format(
        _INSERT_CASES, sql.SQL(", ").join([row] * cases), sql.SQL(_ON_CONFLICT)
    )
    return ("WITH " + ", ".join(ctes) + " " if ctes else "") + insert.as_string()


_ESCALATIONS = (
    "INSERT INTO reporting.escalations (event_id, at, level, element_id, complaint_id, mall_id, floor, department)"
    " VALUES"
)
_CALLBACKS = (
    "INSERT INTO reporting.callbacks (event_id, at, reached, satisfied, complaint_id, mall_id, floor, department)"
    " VALUES"
)


def facts_values(facts: CaseFacts) -> list[Any]:
    """The case's row as `COLUMNS` orders it."""
    row = facts_row(facts)
    return [row[name] for name in COLUMNS]


def facts_row(facts: CaseFacts) -> dict[str, Any]:
    last_callback = facts.callbacks[-1] if facts.callbacks else None
    row = {name: getattr(facts, name, None) for name in COLUMNS}
    row.update(
        problem_key=facts.problem_key,
        customer_name=facts.customer.name,
        customer_phone=facts.customer.phone,
        customer_email=facts.customer.email,
        preferred_reply_channel=facts.customer.preferred_reply_channel,
        anonymous=facts.customer.anonymous,
        contact_opt_out=facts.customer.contact_opt_out,
        escalation_count=len(facts.escalations),
        callback_count=len(facts.callbacks),
        callback_reached=last_callback.reached if last_callback else None,
        callback_satisfied=last_callback.satisfied if last_callback else None,
        open_queues=list(facts.open_queues),
        customer_request=list(facts.customer_request),
    )
    return row


def _closing_names(saved: list[CaseFacts]) -> list[tuple]:
    """(mall, field, code, names) of the closing choices the cases name, each once (the last case's)."""
    found = {}
    for facts in saved:
        for field_id, names in facts.closing_names.items():
            code = getattr(facts, field_id, None)
            if code:
                found[(facts.mall_id, field_id, code)] = Jsonb(names)
    return [(*key, names) for key, names in found.items()]


class CaseStore:
    def __init__(self, conn: psycopg.Connection):
        self.conn = conn

    def save(self, facts: CaseFacts, escalations: bool = True, callbacks: bool = True) -> None:
        """Write the case's facts, and replace its escalations and callbacks with those derived now
        (only those the caller says may have changed: the others' rows stand as they are)."""
        self.save_many([(facts, escalations, callbacks)])

    def save_many(self, saves: list[tuple[CaseFacts, bool, bool]]) -> None:
        """`save` for several cases (each once), their facts by one statement, their escalations
        and callbacks written again by one each."""
        if not saves:
            return
        escalations_again = [facts.complaint_id for facts, escalations, _ in saves if escalations]
        callbacks_again = [facts.complaint_id for facts, _, callbacks in saves if callbacks]
        names = _closing_names([facts for facts, _, _ in saves])
        statement = _upsert(len(saves), bool(escalations_again), bool(callbacks_again), len(names))
        # the values in the order _upsert's text takes them: the deletions', the names', the cases'
        deleted = [ids for ids in (escalations_again, callbacks_again) if ids]
        named = [value for row in names for value in row]
        rows = [value for facts, _, _ in saves for value in facts_values(facts)]
        run_numbered(self.conn, statement, [*deleted, *named, *rows])
        escalated, called = [], []
        for facts, escalations, callbacks in saves:
            where = (facts.complaint_id, facts.mall_id, facts.floor, facts.department)
            if escalations:
                escalated += [
                    (item.event_id, item.at, item.level, item.element_id, *where)
                    for item in facts.escalations
                ]
            if callbacks:
                called += [
                    (item.event_id, item.at, item.reached, item.satisfied, *where) for item in facts.callbacks
                ]
        insert_many(self.conn, _ESCALATIONS, escalated)
        insert_many(self.conn, _CALLBACKS, called)

    def occurrences(
        self, mall_id: str, problem_key: str, start: datetime, end: datetime | None
    ) -> list[Occurrence]:
        """Complaints of one problem received in [start, end] (no end: up to now)."""
        rows = self.conn.execute(
            "SELECT complaint_id, number, received_at FROM reporting.cases WHERE mall_id = %s AND problem_key = %s"
            " AND received_at >= %s AND (%s::timestamptz IS NULL OR received_at <= %s) ORDER BY received_at",
            (mall_id, problem_key, start, end, end),
        ).fetchall()
        return [Occurrence(row["complaint_id"], row["number"], row["received_at"]) for row in rows]

    def closed_before(
        self, mall_id: str, cutoff: datetime, limit: int, after: tuple[datetime, str] | None = None
    ) -> list[dict[str, Any]]:
        """Closed cases whose personal data is still kept, closed before the cut-off, oldest first
        (after `after`, for a listing that erases nothing)."""
        where = Where(mall_id=mall_id).add("erased_at IS NULL AND closed_at IS NOT NULL")
        where.before("closed_at", cutoff, "cutoff")
        where.keyset("closed_at", after, newest_first=False, id_column="complaint_id")
        statement = sql.SQL(
            "SELECT complaint_id, number, closed_at FROM reporting.cases WHERE {}"
            " ORDER BY closed_at, complaint_id LIMIT %(limit)s"
        ).format(where.clause())
        return self.conn.execute(statement, {**where.params, "limit": limit}).fetchall()

    def erase(self, complaint_ids: list[str], at: datetime) -> None:
        """Forget the customers of these cases; every counted column stays."""
        self.conn.execute(
            "UPDATE reporting.cases SET customer_name = NULL, customer_phone = NULL, customer_email = NULL,"
            " erased_at = %s WHERE complaint_id = ANY(%s)",
            (at, complaint_ids),
        )

    def erase_asked(self, mall_id: str, complaint_ids: list[str], at: datetime) -> None:
        """Forget the customers of these cases, as `erase` does; a case not derived yet (its events
        still on their way) gets a row that says so, so what arrives later is kept without them."""
        self.conn.execute(
            "INSERT INTO reporting.cases (complaint_id, mall_id, erased_at) SELECT unnest(%s::text[]), %s, %s"
            " ON CONFLICT (complaint_id) DO UPDATE SET customer_name = NULL, customer_phone = NULL,"
            " customer_email = NULL, erased_at = coalesce(reporting.cases.erased_at, EXCLUDED.erased_at)",
            (complaint_ids, mall_id, at),
        )

    def clear_derived(self) -> None:
        """Delete every derived row, cases with their escalations and callbacks (before a rebuild)."""
        for table in DERIVED_TABLES:
            self.conn.execute(f"DELETE FROM {table}")  # noqa: S608 — constant table names

    def mark_erased_again(self) -> None:
        """After a rebuild: the cases retention had erased are erased, as before."""
        self.conn.execute(
            "UPDATE reporting.cases c SET erased_at = r.requested_at FROM reporting.retention_requests r"
            " WHERE c.complaint_id = ANY(r.complaint_ids) AND c.erased_at IS NULL"
        )
