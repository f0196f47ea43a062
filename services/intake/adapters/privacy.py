"""Finding a customer's complaints by phone or e-mail, erasing them, and the audit of requests."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg
from psycopg import sql

from services.common.listing import Where
from services.common.objects import ObjectStore
from services.intake.adapters.erasure import erase_complaints
from services.intake.adapters.rows import from_row
from services.intake.domain.model import Complaint
from services.intake.domain.privacy import Contact, PrivacyRequest, RequestKind

# Every complaint of the mall is read (no index, see the migration): about 0.2 s per 500,000.
_FIND = {
    "phone": "SELECT * FROM intake.complaints WHERE mall_id = %s"
    " AND intake.phone_key(customer ->> 'phone') = intake.phone_key(%s) ORDER BY received_at, number",
    "email": "SELECT * FROM intake.complaints WHERE mall_id = %s"
    " AND lower(customer ->> 'email') = lower(%s) ORDER BY received_at, number",
}
_COLUMNS = (
    "id",
    "mall_id",
    "kind",
    "contact_kind",
    "contact_masked",
    "reason",
    "requested_by",
    "requested_role",
    "requested_at",
    "complaint_ids",
    "numbers",
)
_INSERT = (
    "INSERT INTO intake.privacy_requests (id, mall_id, kind, contact_kind, contact_masked, reason, requested_by,"
    " requested_role, requested_at, complaint_ids, numbers) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s::uuid[], %s)"
)
_LIST = sql.SQL(
    "SELECT id, mall_id, kind, contact_kind, contact_masked, reason, requested_by, requested_role, requested_at,"
    " complaint_ids, numbers FROM intake.privacy_requests WHERE {} ORDER BY requested_at DESC, id DESC"
    " LIMIT %(limit)s"
)


class PrivacyRepository:
    def __init__(self, conn: psycopg.Connection, objects: ObjectStore):
        self.conn = conn
        self.objects = objects

    def find(self, mall_id: str, contact: Contact, for_update: bool = False) -> list[Complaint]:
        """The complaints whose customer has this phone or e-mail now, oldest first."""
        query = _FIND[contact.kind] + (" FOR UPDATE" if for_update else "")
        return [from_row(row) for row in self.conn.execute(query, (mall_id, contact.value)).fetchall()]

    def erase(self, complaint_ids: list[str]) -> list[str]:
        """Retention's erasure of intake's copy (adapters/erasure.py), in this transaction."""
        return erase_complaints(self.conn, complaint_ids, self.objects)

    def add(self, request: PrivacyRequest) -> None:
        values = [getattr(request, name) for name in _COLUMNS]
        self.conn.execute(_INSERT, [list(value) if isinstance(value, tuple) else value for value in values])

    def list(self, mall_id: str, limit: int, after: tuple[datetime, str] | None) -> list[PrivacyRequest]:
        """Newest first, after the cursor's (requested_at, id)."""
        where = Where(mall_id=mall_id).keyset("requested_at", after, newest_first=True)
        statement = _LIST.format(where.clause())
        rows = self.conn.execute(statement, {**where.params, "limit": limit}).fetchall()
        return [_request(row) for row in rows]


def _request(row: dict[str, Any]) -> PrivacyRequest:
    values = {**row, "id": str(row["id"]), "kind": RequestKind(row["kind"])}
    values["complaint_ids"] = tuple(str(complaint_id) for complaint_id in row["complaint_ids"])
    values["numbers"] = tuple(row["numbers"])
    return PrivacyRequest(**values)
