"""Finding complaints: by number, by phone (however typed), by words in Chinese or not, with the
list's filters and the caller's scope (docs/decisions/0006-chinese-search.md)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import psycopg
from psycopg import sql

from services.intake.adapters.progress import STAGE_OF
from services.intake.adapters.repository import LIST_FILTERS
from services.intake.adapters.rows import from_row
from services.intake.domain.model import Complaint

NUMBER = re.compile(r"^TS-\d{8}-\d{4}$", re.IGNORECASE)
PHONE_LIKE = re.compile(r"^\+?[\d\s\-]{7,20}$")
# The runs the migration's search_lexemes() indexes: Han characters, and Latin letters with digits.
_RUNS = re.compile(r"[\u3400-\u9fff]+|[0-9a-z]+")
_HAN = re.compile(r"[\u3400-\u9fff]")
# Words are ranked among their newest matches only: a common word (酸奶 in 3% of a million complaints)
# would otherwise rank 30,000 rows (~300 ms). A word with RANKED_WINDOW matches or more is ranked
# among those of the last SPANS[0] first; only when they are fewer than asked is the span widened
# (docs/decisions/0006-chinese-search.md has the figures). At most RANKED_WINDOW of the newest
# matches of a span are ranked.
SPANS = (timedelta(days=30), timedelta(days=365), None)
RANKED_WINDOW = 1000
_RANKED = (
    "SELECT * FROM (SELECT c.* FROM intake.complaints c WHERE {} ORDER BY c.received_at DESC, c.id DESC"
    " LIMIT %(window)s) newest"
    " ORDER BY ts_rank(newest.search, %(terms)s::tsquery) DESC, newest.received_at DESC, newest.id DESC"
    " LIMIT %(limit)s"
)
# Counting stops at the window: a rare word is ranked over all its matches at once.
_COUNT_UP_TO = "SELECT count(*) AS n FROM (SELECT 1 FROM intake.complaints c WHERE {} LIMIT %(window)s) found"
_NEWEST = (
    "SELECT c.* FROM intake.complaints c WHERE {} ORDER BY c.received_at DESC, c.id DESC LIMIT %(limit)s"
)


def tsquery(text: str) -> str | None:
    """The words typed as a tsquery over the bigram lexemes, or None when nothing searchable is left.

    A Han run of two or more characters is the phrase of its bigrams (酸奶过期: 酸奶 <-> 奶过 <-> 过期);
    one Han character, and a Latin or digit run, match as a prefix. Only those characters are kept,
    so the result needs no quoting.
    """
    parts = []
    for run in _RUNS.findall(text.lower()):
        if _HAN.match(run) and len(run) > 1:
            parts.append("(" + " <-> ".join(f"'{run[i : i + 2]}'" for i in range(len(run) - 1)) + ")")
        else:
            parts.append(f"'{run}':*")
    return " & ".join(parts) or None


@dataclass(frozen=True)
class SearchQuery:
    """A search or a filtered list; scope limits come from the caller's identity."""

    mall_id: str
    text: str | None = None
    phone: str | None = None
    filters: dict[str, str | None] | None = None
    merchant: str | None = None
    received_from: datetime | None = None
    received_before: datetime | None = None
    overdue_at: datetime | None = None
    stage: str | None = None
    scope_floors: tuple[str, ...] | None = None
    scope_departments: tuple[str, ...] | None = None
    limit: int = 50
    now: datetime | None = None  # words: the newest matches first ranked (SPANS); None: all at once


class ComplaintSearch:
    def __init__(self, conn: psycopg.Connection):
        self.conn = conn

    def find(self, query: SearchQuery) -> list[Complaint]:
        """Best matches first (a number, then a phone, then words ranked), newest first among equals."""
        conditions, params = _conditions(query)
        text = (query.text or "").strip()
        if NUMBER.match(text):
            conditions.append(sql.SQL("c.number = %(number)s"))
            params["number"] = text.upper()
        elif PHONE_LIKE.match(text) and sum(ch.isdigit() for ch in text) >= 7:
            conditions.append(_phone_condition())
            params["phone_q"] = text
        elif text:
            terms = tsquery(text)
            if terms is None:
                return []
            conditions.append(sql.SQL("c.search @@ %(terms)s::tsquery"))
            params.update(terms=terms, window=RANKED_WINDOW)
            return self._ranked(conditions, params, query)
        statement = sql.SQL(_NEWEST).format(sql.SQL(" AND ").join(conditions))
        return [from_row(row) for row in self.conn.execute(statement, params).fetchall()]

    def _ranked(
        self, conditions: list[sql.Composable], params: dict[str, Any], query: SearchQuery
    ) -> list[Complaint]:
        """The best matches: of all time for a word with few matches; else of the newest span that has
        enough of them."""
        where = sql.SQL(" AND ").join(conditions)
        common = (
            self.conn.execute(sql.SQL(_COUNT_UP_TO).format(where), params).fetchone()["n"] >= RANKED_WINDOW
        )
        for span in SPANS if query.now and common else (None,):
            spanned = where
            if span is not None:
                spanned = sql.SQL("{} AND c.received_at >= %(since)s").format(where)
                params["since"] = query.now - span
            rows = self.conn.execute(sql.SQL(_RANKED).format(spanned), params).fetchall()
            if len(rows) >= query.limit or span is None:
                return [from_row(row) for row in rows]
        return []

    def by_phone(self, phone: str, limit: int, scope: SearchQuery) -> list[dict]:
        """The complaints of one phone number, newest first, with the number each was merged into."""
        conditions, params = _conditions(scope)
        conditions.append(_phone_condition())
        params.update(phone_q=phone, limit=limit)
        statement = sql.SQL(
            "SELECT c.*, (SELECT m.number FROM intake.complaints m WHERE m.id = c.merged_into) AS merged_into_number"
            " FROM intake.complaints c WHERE {} ORDER BY c.received_at DESC, c.id DESC LIMIT %(limit)s"
        ).format(sql.SQL(" AND ").join(conditions))
        return self.conn.execute(statement, params).fetchall()

    def count_by_phone(self, phone: str, scope: SearchQuery, leave_out: str | None = None) -> int:
        conditions, params = _conditions(scope)
        conditions.append(_phone_condition())
        params["phone_q"] = phone
        if leave_out:
            conditions.append(sql.SQL("c.id <> %(leave_out)s"))
            params["leave_out"] = leave_out
        statement = sql.SQL("SELECT count(*) AS n FROM intake.complaints c WHERE {}").format(
            sql.SQL(" AND ").join(conditions)
        )
        return self.conn.execute(statement, params).fetchone()["n"]


def _phone_condition(param: str = "phone_q") -> sql.Composable:
    # Matches the partial index complaints_by_phone (mall_id, phone_key(customer ->> 'phone')).
    return sql.SQL(
        "c.customer ->> 'phone' IS NOT NULL AND intake.phone_key(c.customer ->> 'phone') = intake.phone_key({})"
    ).format(sql.Placeholder(param))


def _conditions(query: SearchQuery) -> tuple[list[sql.Composable], dict[str, Any]]:
    conditions: list[sql.Composable] = [sql.SQL("c.mall_id = %(mall_id)s")]
    params: dict[str, Any] = {"mall_id": query.mall_id, "limit": query.limit}
    for name, value in (query.filters or {}).items():
        if name in LIST_FILTERS and value is not None:
            conditions.append(sql.SQL("c.{} = {}").format(sql.Identifier(name), sql.Placeholder(name)))
            params[name] = value
    optional = {
        "merchant": ("c.merchant_code = %(merchant)s", query.merchant),
        "received_from": ("c.received_at >= %(received_from)s", query.received_from),
        "received_before": ("c.received_at < %(received_before)s", query.received_before),
        "overdue_at": (
            "EXISTS (SELECT 1 FROM intake.case_holders h WHERE h.complaint_id = c.id AND h.open"
            " AND h.due_at < %(overdue_at)s)",
            query.overdue_at,
        ),
    }
    optional["stage"] = (STAGE_OF.format(complaint="c.id") + " = %(stage)s", query.stage)
    for name, (condition, value) in optional.items():
        if condition and value is not None:
            conditions.append(sql.SQL(condition))
            params[name] = value
    if query.phone:
        conditions.append(_phone_condition("phone"))
        params["phone"] = query.phone
    if query.scope_floors is not None or query.scope_departments is not None:
        conditions.append(
            sql.SQL("(c.floor = ANY(%(scope_floors)s) OR c.department = ANY(%(scope_departments)s))")
        )
        params["scope_floors"] = list(query.scope_floors or ())
        params["scope_departments"] = list(query.scope_departments or ())
    return conditions, params
