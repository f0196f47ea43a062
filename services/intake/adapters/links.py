"""Related complaints: those the desk linked or merged, and those that look related (same shop, or
the same floor when no shop is named, same category, within the policy's recurrence window)."""

from __future__ import annotations

from datetime import datetime

import psycopg

from services.intake.adapters.rows import from_row
from services.intake.domain.model import Complaint


class LinkRepository:
    def __init__(self, conn: psycopg.Connection):
        self.conn = conn

    def link(self, first: str, second: str, kind: str, actor: str, at: datetime) -> bool:
        """Both directions; False when they were linked already (a merge upgrades a link)."""
        rows = self.conn.execute(
            "INSERT INTO intake.complaint_links (complaint_id, related_id, kind, linked_by, linked_at)"
            " VALUES (%(a)s, %(b)s, %(kind)s, %(by)s, %(at)s), (%(b)s, %(a)s, %(kind)s, %(by)s, %(at)s)"
            " ON CONFLICT (complaint_id, related_id) DO UPDATE SET kind = EXCLUDED.kind"
            " WHERE intake.complaint_links.kind <> EXCLUDED.kind RETURNING 1",
            {"a": first, "b": second, "kind": kind, "by": actor, "at": at},
        ).fetchall()
        return bool(rows)

    def mark_merged(self, complaint_id: str, into_id: str) -> None:
        self.conn.execute(
            "UPDATE intake.complaints SET merged_into = %s, updated_at = now() WHERE id = %s",
            (into_id, complaint_id),
        )

    def merged_into(self, complaint_ids: list[str]) -> dict[str, str | None]:
        rows = self.conn.execute(
            "SELECT id, merged_into FROM intake.complaints WHERE id = ANY(%s::uuid[])", (complaint_ids,)
        ).fetchall()
        return {str(row["id"]): str(row["merged_into"]) if row["merged_into"] else None for row in rows}

    def linked(self, complaint_id: str) -> list[tuple[Complaint, str, str | None]]:
        """The complaints linked to this one, with the kind of link and what each was merged into."""
        rows = self.conn.execute(
            "SELECT c.*, l.kind AS link_kind FROM intake.complaint_links l"
            " JOIN intake.complaints c ON c.id = l.related_id WHERE l.complaint_id = %s"
            " ORDER BY c.received_at DESC",
            (complaint_id,),
        ).fetchall()
        return [(from_row(row), row["link_kind"], _text(row["merged_into"])) for row in rows]

    def candidates(
        self, complaint: Complaint, since: datetime, until: datetime, limit: int
    ) -> list[Complaint]:
        """Not yet linked complaints about the same shop (or floor, without a shop) and category."""
        rows = self.conn.execute(
            "SELECT c.* FROM intake.complaints c WHERE c.mall_id = %(mall)s AND c.id <> %(id)s"
            " AND c.category = %(category)s AND c.received_at >= %(since)s AND c.received_at < %(until)s"
            " AND CASE WHEN %(merchant)s::text IS NOT NULL THEN c.merchant_code = %(merchant)s"
            "          ELSE c.merchant_code IS NULL AND c.floor IS NOT DISTINCT FROM %(floor)s END"
            " AND NOT EXISTS (SELECT 1 FROM intake.complaint_links l WHERE l.complaint_id = %(id)s"
            "                 AND l.related_id = c.id)"
            " ORDER BY abs(extract(epoch FROM c.received_at - %(at)s)), c.id LIMIT %(limit)s",
            {
                "mall": complaint.mall_id,
                "id": complaint.id,
                "category": complaint.category.value,
                "since": since,
                "until": until,
                "merchant": complaint.merchant.code if complaint.merchant else None,
                "floor": complaint.floor,
                "at": complaint.received_at,
                "limit": limit,
            },
        ).fetchall()
        return [from_row(row) for row in rows]


def _text(value) -> str | None:
    return str(value) if value is not None else None
