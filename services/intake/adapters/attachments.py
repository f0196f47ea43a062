"""Attachment rows (the files themselves are in the object store)."""

from __future__ import annotations

from typing import Any

import psycopg

from services.intake.domain.attachments import Attachment, Kind, Source

_COLUMNS = (
    "id",
    "complaint_id",
    "mall_id",
    "kind",
    "media_type",
    "size_bytes",
    "file_name",
    "object_key",
    "thumbnail_key",
    "source",
    "task_id",
    "uploaded_by",
    "uploaded_at",
)
_INSERT = (
    "INSERT INTO intake.attachments (id, complaint_id, mall_id, kind, media_type, size_bytes, file_name,"
    " object_key, thumbnail_key, source, task_id, uploaded_by, uploaded_at)"
    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
)


class AttachmentRepository:
    def __init__(self, conn: psycopg.Connection):
        self.conn = conn

    def add(self, attachment: Attachment) -> None:
        self.conn.execute(_INSERT, [getattr(attachment, name) for name in _COLUMNS])

    def of_complaint(self, complaint_id: str) -> list[Attachment]:
        """A complaint's attachments, oldest first."""
        rows = self.conn.execute(
            "SELECT * FROM intake.attachments WHERE complaint_id = %s ORDER BY uploaded_at, seq",
            (complaint_id,),
        ).fetchall()
        return [_attachment(row) for row in rows]

    def get(self, complaint_id: str, attachment_id: str) -> Attachment | None:
        row = self.conn.execute(
            "SELECT * FROM intake.attachments WHERE complaint_id = %s AND id = %s",
            (complaint_id, attachment_id),
        ).fetchone()
        return _attachment(row) if row else None

    def erase(self, complaint_ids: list[str]) -> list[str]:
        """Delete the complaints' attachment rows; the object keys they named, for the store."""
        rows = self.conn.execute(
            "DELETE FROM intake.attachments WHERE complaint_id = ANY(%s::uuid[]) RETURNING object_key, thumbnail_key",
            (complaint_ids,),
        ).fetchall()
        return [key for row in rows for key in (row["object_key"], row["thumbnail_key"]) if key]


def _attachment(row: dict[str, Any]) -> Attachment:
    values = {name: row[name] for name in _COLUMNS}
    values.update(
        id=str(row["id"]),
        complaint_id=str(row["complaint_id"]),
        kind=Kind(row["kind"]),
        source=Source(row["source"]),
        task_id=str(row["task_id"]) if row["task_id"] else None,
    )
    return Attachment(**values)
