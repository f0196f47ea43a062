"""Complaint, reference-data and idempotency repositories on one psycopg connection."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

import psycopg
from psycopg import sql

from services.common.bus.envelope import Envelope, dump_envelope
from services.common.bus.outbox import OutboxWriter
from services.common.listing import Where
from services.common.personal import CUSTOMER_FIELDS, corrected_customers
from services.intake.adapters.progress import STAGE_OF
from services.intake.adapters.reference_cache import Reference, ReferenceCache
from services.intake.adapters.rows import COLUMNS, from_row, to_row
from services.intake.domain.model import Complaint, Merchant
from services.intake.domain.rules import ReferenceCheck

if TYPE_CHECKING:
    from services.intake.adapters.search import SearchQuery

# Statements are composed once and kept as text: psycopg caches the parsing of a text query,
# while a composed one is rendered again on every execution.
_INSERT = (
    sql.SQL("INSERT INTO intake.complaints ({}) VALUES ({})")
    .format(
        sql.SQL(", ").join(map(sql.Identifier, COLUMNS)),
        sql.SQL(", ").join(sql.Placeholder(name) for name in COLUMNS),
    )
    .as_string()
)
# The day's counter: incremented by a statement that is a transaction of its own, so the row is
# locked for microseconds rather than until the complaint's commit (see UnitOfWork.take_number).
# `set_config(..., true)` is SET LOCAL evaluated inside the statement: this one transaction commits
# without waiting for the disk, and the session's setting is untouched.
_NEXT_NUMBER = (
    "INSERT INTO intake.number_counters AS c (mall_id, day, last) VALUES (%s, %s, 1)"
    " ON CONFLICT (mall_id, day) DO UPDATE SET last = c.last + 1"
    " RETURNING last, set_config('synchronous_commit', 'off', true)"
)
_UPDATABLE = [
    name
    for name in COLUMNS
    if name not in {"id", "mall_id", "number", "channel", "received_at", "received_by"}
]
_UPDATE = (
    sql.SQL("UPDATE intake.complaints SET {}, updated_at = now() WHERE id = %(id)s")
    .format(
        sql.SQL(", ").join(
            sql.SQL("{} = {}").format(sql.Identifier(n), sql.Placeholder(n)) for n in _UPDATABLE
        )
    )
    .as_string()
)

# What a complaint copies of its merchant (Merchant's fields), from the reference row.
_MERCHANT_COPIED = ("code", "shop_name", "floor", "unit", "person_in_charge", "phone")

# Filters the list accepts: name -> column compared for equality.
LIST_FILTERS = ("status", "category", "channel", "floor", "department", "severity")
_OVERDUE = (
    "EXISTS (SELECT 1 FROM intake.case_holders h WHERE h.complaint_id = c.id AND h.open"
    " AND h.due_at < %(overdue_at)s)"
)


@dataclass(frozen=True)
class ListQuery:
    """What the complaint list asks for; scope limits come from the caller's identity."""

    mall_id: str
    limit: int = 50
    after: tuple[datetime, str] | None = None
    filters: dict[str, str] | None = None
    merchant: str | None = None
    received_from: datetime | None = None
    received_before: datetime | None = None
    scope_floors: tuple[str, ...] | None = None
    scope_departments: tuple[str, ...] | None = None
    phone: str | None = None  # however typed: compared by intake.phone_key
    overdue_at: datetime | None = None  # only cases with an open task due before this
    stage: str | None = None  # only cases at this stage (STAGE_OF)
    ids: tuple[UUID, ...] | None = None  # only these complaints


class ComplaintRepository:
    def __init__(self, conn: psycopg.Connection):
        self.conn = conn

    def add(self, complaint: Complaint, outbox: OutboxWriter, event: Envelope) -> None:
        """Insert the complaint together with the event announcing it, as one statement."""
        body = dump_envelope(event)
        outbox.add_with(self.conn, _INSERT, to_row(complaint), event.id, event.type, body)

    def update(self, complaint: Complaint) -> None:
        self.conn.execute(_UPDATE, to_row(complaint))

    def get(self, mall_id: str, complaint_id: str, for_update: bool = False) -> Complaint | None:
        query = "SELECT * FROM intake.complaints WHERE mall_id = %s AND id = %s"
        row = self.conn.execute(
            query + (" FOR UPDATE" if for_update else ""), (mall_id, complaint_id)
        ).fetchone()
        return from_row(row) if row else None

    def get_by_number(self, mall_id: str, number: str) -> Complaint | None:
        row = self.conn.execute(
            "SELECT * FROM intake.complaints WHERE mall_id = %s AND number = %s", (mall_id, number)
        ).fetchone()
        return from_row(row) if row else None

    def next_number(self, mall_id: str, day: date) -> int:
        """Increment the day's counter and return the new value (see _NEXT_NUMBER)."""
        return self.conn.execute(_NEXT_NUMBER, (mall_id, day)).fetchone()["last"]

    def add_resolution(self, complaint_id: str, resolution: str) -> None:
        """What a handler resolved, added to the complaint's searchable text (the inbox makes it once)."""
        self.conn.execute(
            "UPDATE intake.complaints SET resolutions = ltrim(resolutions || E'\\n' || %s, E'\\n') WHERE id = %s",
            (resolution, complaint_id),
        )

    def add_history(
        self,
        complaint_id: str,
        at: datetime,
        actor: str,
        role: str | None,
        reason: str,
        changes: dict[str, Any],
    ) -> None:
        self.conn.execute(
            "INSERT INTO intake.complaint_history"
            " (complaint_id, changed_at, changed_by, role, reason, changes) VALUES (%s, %s, %s, %s, %s, %s)",
            (complaint_id, at, actor, role, reason, json.dumps(changes, ensure_ascii=False, default=str)),
        )

    def history(self, complaint_id: str) -> list[dict[str, Any]]:
        return self.conn.execute(
            "SELECT changed_at, changed_by, role, reason, changes FROM intake.complaint_history"
            " WHERE complaint_id = %s ORDER BY id",
            (complaint_id,),
        ).fetchall()

    def list(self, query: ListQuery) -> list[Complaint]:
        where = list_where(query).any_of("id", query.ids)
        where.keyset("received_at", query.after, newest_first=True)
        statement = sql.SQL(
            "SELECT * FROM intake.complaints c WHERE {} ORDER BY received_at DESC, id DESC LIMIT %(limit)s"
        ).format(where.clause())
        rows = self.conn.execute(statement, {**where.params, "limit": query.limit}).fetchall()
        return [from_row(row) for row in rows]


def former_customers(conn: psycopg.Connection, complaint_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """complaint id -> the customer's details its corrections replaced or cleared (as they were):
    text written before a correction may still name them, and is masked for them too."""
    found: dict[str, list[dict[str, Any]]] = {complaint_id: [] for complaint_id in complaint_ids}
    if not complaint_ids:
        return found
    rows = conn.execute(
        "SELECT complaint_id, changes FROM intake.complaint_history"
        " WHERE complaint_id = ANY(%s::uuid[]) AND changes ?| %s ORDER BY id",
        (complaint_ids, [f"customer.{name}" for name in CUSTOMER_FIELDS]),
    ).fetchall()
    for row in rows:  # each side of each correction: the masks erasure uses for the same history
        found[str(row["complaint_id"])].extend(corrected_customers(row["changes"]))
    return found


def list_where(query: ListQuery | SearchQuery) -> Where:
    """The list's filters and the caller's scope (search's too), on `intake.complaints c`."""
    where = Where("c", mall_id=query.mall_id)
    for name, value in (query.filters or {}).items():
        if name in LIST_FILTERS:
            where.equal(name, value)
    # An empty merchant or phone is no filter (`?merchant=`), as the list has always read it.
    where.equal("merchant_code", query.merchant or None)
    where.add(phone_filter("phone", query.phone), phone=query.phone or None)
    where.at_least("received_at", query.received_from, "received_from")
    where.before("received_at", query.received_before, "received_before")
    where.add(_OVERDUE, overdue_at=query.overdue_at)
    where.add(STAGE_OF.format(complaint="c.id") + " = %(stage)s", stage=query.stage)
    return where.in_scope(query.scope_floors, query.scope_departments, _TOLD_IN_SCOPE)


# A complaint a notice asked one of the caller's departments to act on is in its lists too.
_TOLD_IN_SCOPE = sql.SQL(
    "EXISTS (SELECT FROM intake.departments_told t"
    " WHERE t.complaint_id = c.id AND t.department = ANY(%(scope_departments)s))"
)


# The last four digits of a phone, as the receipt and the status page ask the customer for them.
PHONE_TAIL = re.compile(r"^[0-9]{4}$")


def phone_filter(param: str, given: str | None) -> sql.Composable:
    """The phone `given`, or the phones ending with it when it is their last four digits."""
    return phone_tail_matches(param) if given and PHONE_TAIL.match(given) else phone_matches(param)


def phone_tail_matches(param: str) -> sql.Composable:
    """The customer's phone ends with the four digits in `param`. Masked views show those four
    (139****5678), so a reader finds no more by them than its list already shows."""
    # Matches the partial index complaints_by_phone_tail (mall_id, right(phone_key(…), 4)).
    return sql.SQL(
        "c.customer ->> 'phone' IS NOT NULL AND right(intake.phone_key(c.customer ->> 'phone'), 4) = {}"
    ).format(sql.Placeholder(param))


def phone_matches(param: str) -> sql.Composable:
    """The customer's phone is the one in `param`, however either is typed."""
    # Matches the partial index complaints_by_phone (mall_id, phone_key(customer ->> 'phone')).
    return sql.SQL(
        "c.customer ->> 'phone' IS NOT NULL AND intake.phone_key(c.customer ->> 'phone') = intake.phone_key({})"
    ).format(sql.Placeholder(param))


class ReferenceRepository:
    """Floors, merchants and departments of a mall.

    With a cache, `check` answers from it, and the malls changed here are invalidated in it by
    `committed()` (the unit of work calls it after its commit).
    """

    def __init__(self, conn: psycopg.Connection, cache: ReferenceCache | None = None):
        self.conn = conn
        self.cache = cache
        self._changed: set[str] = set()

    def check(
        self, mall_id: str, floor: str | None, merchant_code: str | None, department: str | None
    ) -> tuple[ReferenceCheck, Merchant | None]:
        if self.cache is None:
            return self._check_in_database(mall_id, floor, merchant_code, department)
        known = self.cache.get(mall_id, lambda: self._load(mall_id))
        merchant = known.merchants.get(merchant_code) if merchant_code is not None else None
        check = ReferenceCheck(
            floor_known=floor is None or floor in known.floors,
            merchant_known=merchant_code is None or merchant is not None,
            merchant_floor=merchant.floor if merchant else None,
            department_known=department is None or department in known.departments,
        )
        return check, merchant

    def _load(self, mall_id: str) -> Reference:
        return Reference(
            floors=frozenset(row["code"] for row in self.floors(mall_id)),
            departments=frozenset(row["code"] for row in self.departments(mall_id)),
            merchants={
                row["code"]: Merchant(**{name: row[name] for name in _MERCHANT_COPIED})
                for row in self.merchants(mall_id)
            },
        )

    def changed(self) -> set[str]:
        """The malls whose reference data this unit of work changed."""
        return set(self._changed)

    def committed(self) -> None:
        for mall_id in self._changed:
            if self.cache is not None:
                self.cache.invalidate(mall_id)
        self._changed.clear()

    def _check_in_database(
        self, mall_id: str, floor: str | None, merchant_code: str | None, department: str | None
    ) -> tuple[ReferenceCheck, Merchant | None]:
        row = self.conn.execute(
            "SELECT"
            " EXISTS (SELECT 1 FROM intake.floors WHERE mall_id = %(m)s AND code = %(f)s) AS floor_known,"
            " EXISTS (SELECT 1 FROM intake.departments WHERE mall_id = %(m)s AND code = %(d)s)"
            "   AS department_known,"
            " (SELECT row_to_json(x) FROM (SELECT code, shop_name, floor, unit, person_in_charge, phone"
            "   FROM intake.merchants WHERE mall_id = %(m)s AND code = %(c)s AND active) x) AS merchant",
            {"m": mall_id, "f": floor, "d": department, "c": merchant_code},
        ).fetchone()
        merchant = Merchant(**row["merchant"]) if row["merchant"] else None
        check = ReferenceCheck(
            floor_known=floor is None or row["floor_known"],
            merchant_known=merchant_code is None or merchant is not None,
            merchant_floor=merchant.floor if merchant else None,
            department_known=department is None or row["department_known"],
        )
        return check, merchant

    def floors(self, mall_id: str) -> list[dict]:
        return self.conn.execute(
            "SELECT code, name, name_en, sort_order FROM intake.floors WHERE mall_id = %s"
            " ORDER BY sort_order, code",
            (mall_id,),
        ).fetchall()

    def departments(self, mall_id: str) -> list[dict]:
        return self.conn.execute(
            "SELECT code, name, name_en FROM intake.departments WHERE mall_id = %s ORDER BY code", (mall_id,)
        ).fetchall()

    def merchants(self, mall_id: str, floor: str | None = None, include_inactive: bool = False) -> list[dict]:
        return self.conn.execute(
            "SELECT code, shop_name, shop_name_en, floor, unit, business, person_in_charge, phone, active"
            " FROM intake.merchants WHERE mall_id = %s AND (%s::text IS NULL OR floor = %s)"
            " AND (active OR %s) ORDER BY floor, code",
            (mall_id, floor, floor, include_inactive),
        ).fetchall()

    def upsert_floor(self, mall_id: str, floor: dict) -> None:
        self._changed.add(mall_id)
        self.conn.execute(
            "INSERT INTO intake.floors (mall_id, code, name, name_en, sort_order)"
            " VALUES (%(mall_id)s, %(code)s, %(name)s, %(name_en)s, %(sort_order)s)"
            " ON CONFLICT (mall_id, code) DO UPDATE SET name = EXCLUDED.name, name_en = EXCLUDED.name_en,"
            " sort_order = EXCLUDED.sort_order",
            {"mall_id": mall_id, "name_en": None, "sort_order": 0, **floor},
        )

    def upsert_department(self, mall_id: str, department: dict) -> None:
        self._changed.add(mall_id)
        self.conn.execute(
            "INSERT INTO intake.departments (mall_id, code, name, name_en)"
            " VALUES (%(mall_id)s, %(code)s, %(name)s, %(name_en)s)"
            " ON CONFLICT (mall_id, code) DO UPDATE SET name = EXCLUDED.name, name_en = EXCLUDED.name_en",
            {"mall_id": mall_id, "name_en": None, **department},
        )

    def upsert_merchant(self, mall_id: str, merchant: dict) -> None:
        self._changed.add(mall_id)
        values = {
            "mall_id": mall_id,
            "shop_name_en": None,
            "unit": None,
            "business": None,
            "person_in_charge": None,
            "phone": None,
            "active": True,
            **merchant,
        }
        self.conn.execute(
            "INSERT INTO intake.merchants (mall_id, code, shop_name, shop_name_en, floor, unit, business,"
            " person_in_charge, phone, active) VALUES (%(mall_id)s, %(code)s, %(shop_name)s,"
            " %(shop_name_en)s, %(floor)s, %(unit)s, %(business)s, %(person_in_charge)s, %(phone)s,"
            " %(active)s)"
            " ON CONFLICT (mall_id, code) DO UPDATE SET shop_name = EXCLUDED.shop_name,"
            " shop_name_en = EXCLUDED.shop_name_en, floor = EXCLUDED.floor, unit = EXCLUDED.unit,"
            " business = EXCLUDED.business, person_in_charge = EXCLUDED.person_in_charge,"
            " phone = EXCLUDED.phone, active = EXCLUDED.active",
            values,
        )


class IdempotencyStore:
    def __init__(self, conn: psycopg.Connection):
        self.conn = conn

    def claim(self, mall_id: str, key: str, fingerprint: str, complaint_id: str) -> dict | None:
        """Record the key for this complaint; if it was already used, return that earlier use.

        A concurrent request with the same key waits on the unique index until the first one
        commits or rolls back, so exactly one of them records a complaint.
        """
        inserted = self.conn.execute(
            "INSERT INTO intake.idempotency_keys (mall_id, key, fingerprint, complaint_id)"
            " VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING RETURNING complaint_id",
            (mall_id, key, fingerprint, complaint_id),
        ).fetchone()
        if inserted:
            return None
        return self.find(mall_id, key)

    def find(self, mall_id: str, key: str | None) -> dict | None:
        """The earlier use of a key (its fingerprint and complaint), or None (always, without a key)."""
        if not key:
            return None
        return self.conn.execute(
            "SELECT fingerprint, complaint_id FROM intake.idempotency_keys WHERE mall_id = %s AND key = %s",
            (mall_id, key),
        ).fetchone()
