"""Finding complaints: by number, by phone (however typed), by words in Chinese or not, with the
list's filters and the caller's scope (docs/decisions/0006-chinese-search.md)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

import psycopg
from psycopg import sql

from services.common.listing import Where
from services.common.receipts import receipt_number
from services.intake.adapters.repository import PHONE_TAIL, list_where, phone_matches, phone_tail_matches
from services.intake.adapters.rows import from_row
from services.intake.domain.model import Complaint

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
        """Best matches first (a number, then a phone or its last four digits, then words ranked),
        newest first among equals."""
        where = list_where(query)
        text = (query.text or "").strip()
        number = receipt_number(text)
        if number is not None:  # however it was typed: 20261208-0002 is TS-20261208-0002
            where.equal("number", number)
        elif PHONE_LIKE.match(text) and sum(ch.isdigit() for ch in text) >= 7:
            where.add(phone_matches("phone_q"), phone_q=text)
        elif PHONE_TAIL.match(text):  # what a customer quotes from the receipt: the phone's last four
            where.add(phone_tail_matches("phone_q"), phone_q=text)
        elif text:
            terms = tsquery(text)
            if terms is None:
                return []
            where.add("c.search @@ %(terms)s::tsquery", terms=terms)
            return self._ranked(where, query)
        statement = sql.SQL(_NEWEST).format(where.clause())
        rows = self.conn.execute(statement, {**where.params, "limit": query.limit}).fetchall()
        return [from_row(row) for row in rows]

    def _ranked(self, where: Where, query: SearchQuery) -> list[Complaint]:
        """The best matches: of all time for a word with few matches; else of the newest span that has
        enough of them."""
        params = {**where.params, "limit": query.limit, "window": RANKED_WINDOW}
        clause = where.clause()
        common = (
            self.conn.execute(sql.SQL(_COUNT_UP_TO).format(clause), params).fetchone()["n"] >= RANKED_WINDOW
        )
        for span in SPANS if query.now and common else (None,):
            spanned = clause
            if span is not None:
                spanned = sql.SQL("{} AND c.received_at >= %(since)s").format(clause)
                params["since"] = query.now - span
            rows = self.conn.execute(sql.SQL(_RANKED).format(spanned), params).fetchall()
            if len(rows) >= query.limit or span is None:
                return [from_row(row) for row in rows]
        return []

    def by_phone(self, phone: str, limit: int, scope: SearchQuery) -> list[dict]:
        """The complaints of one phone number, newest first, with the number each was merged into."""
        where = list_where(scope).add(phone_matches("phone_q"), phone_q=phone)
        statement = sql.SQL(
            "SELECT c.*, (SELECT m.number FROM intake.complaints m WHERE m.id = c.merged_into) AS merged_into_number"
            " FROM intake.complaints c WHERE {} ORDER BY c.received_at DESC, c.id DESC LIMIT %(limit)s"
        ).format(where.clause())
        return self.conn.execute(statement, {**where.params, "limit": limit}).fetchall()

    def count_by_phone(self, phone: str, scope: SearchQuery, leave_out: str | None = None) -> int:
        where = list_where(scope).add(phone_matches("phone_q"), phone_q=phone)
        where.add("c.id <> %(leave_out)s", leave_out=leave_out or None)
        statement = sql.SQL("SELECT count(*) AS n FROM intake.complaints c WHERE {}").format(where.clause())
        return self.conn.execute(statement, where.params).fetchone()["n"]
