"""Where e-mailed complaints are kept: intake.email_messages and their attachments (migration 0010)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import psycopg
from psycopg import sql

from services.intake.mail.reading import ReadMail

_INSERT = (
    "INSERT INTO intake.email_messages (id, mall_id, mailbox, message_key, uid, kind, reason, problem, sender_name,"
    " sender_address, subject, body, message_id, references_ids, sent_at, received_at, raw, complaint_id)"
    " VALUES (%(id)s, %(mall_id)s, %(mailbox)s, %(message_key)s, %(uid)s, %(kind)s, %(reason)s, %(problem)s,"
    " %(sender_name)s, %(sender_address)s, %(subject)s, %(body)s, %(message_id)s, %(references)s, %(sent_at)s,"
    " %(received_at)s, %(raw)s, %(complaint_id)s)"
    " ON CONFLICT (mall_id, mailbox, message_key) DO NOTHING RETURNING id"
)
_SUMMARY_COLUMNS = (
    "id, kind, state, reason, problem, sender_name, sender_address, subject, message_id, sent_at,"
    " received_at, complaint_id, decided_by, decided_at,"
    " (SELECT count(*) FROM intake.email_attachments a WHERE a.message_id = m.id)::int AS attachment_count"
)
_SUMMARY = sql.SQL(_SUMMARY_COLUMNS)
_LISTING = sql.SQL(
    "SELECT {} FROM intake.email_messages m WHERE mall_id = %s AND kind = %s AND state = %s"
    " ORDER BY received_at DESC, id DESC LIMIT %s"
).format(_SUMMARY)
_ONE = sql.SQL("SELECT {}, body FROM intake.email_messages m WHERE mall_id = %s AND id = %s").format(_SUMMARY)
_OF_COMPLAINT = sql.SQL(
    "SELECT {}, body FROM intake.email_messages m WHERE mall_id = %s AND complaint_id = %s ORDER BY received_at, uid, id"
).format(_SUMMARY)
# Our own replies carry Message-IDs of notify's deliveries; a customer's answer names them and the
# complaint's first message, which is enough to find the complaint.
_THREAD = (
    "SELECT complaint_id FROM intake.email_messages WHERE mall_id = %s AND message_id = ANY(%s)"
    " AND complaint_id IS NOT NULL ORDER BY received_at LIMIT 1"
)


class MailStore:
    def __init__(self, conn: psycopg.Connection):
        self.conn = conn

    def thread_of(self, mall_id: str, references: tuple[str, ...]) -> str | None:
        """The complaint a message answers, by its In-Reply-To and References."""
        if not references:
            return None
        row = self.conn.execute(_THREAD, (mall_id, list(references))).fetchone()
        return str(row["complaint_id"]) if row else None

    def add(
        self,
        mall_id: str,
        mailbox: str,
        uid: int | None,
        mail: ReadMail,
        raw: bytes,
        now: datetime,
        complaint_id: str | None,
    ) -> str | None:
        """Keep the message once; None when this mailbox already gave one with its key."""
        kind = "set_aside" if mail.set_aside else ("answer" if complaint_id else "draft")
        row = self.conn.execute(
            _INSERT,
            {
                "id": str(uuid.uuid4()),
                "mall_id": mall_id,
                "mailbox": mailbox,
                "message_key": mail.message_key,
                "uid": uid,
                "kind": kind,
                "reason": mail.set_aside,
                "problem": mail.problem,
                "sender_name": mail.sender_name,
                "sender_address": mail.sender_address,
                "subject": mail.subject,
                "body": mail.body.replace("\x00", ""),
                "message_id": mail.message_id,
                "references": list(mail.references),
                "sent_at": mail.sent_at,
                "received_at": now,
                "raw": raw,
                "complaint_id": complaint_id if kind == "answer" else None,
            },
        ).fetchone()
        if row is None:
            return None
        for position, item in enumerate(mail.attachments):
            self.conn.execute(
                "INSERT INTO intake.email_attachments (id, message_id, position, filename, content_type, size, content)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s)",
                (
                    str(uuid.uuid4()),
                    row["id"],
                    position,
                    item.filename,
                    item.content_type,
                    len(item.content),
                    item.content,
                ),
            )
        return str(row["id"])

    def listing(self, mall_id: str, kind: str, state: str, limit: int) -> list[dict[str, Any]]:
        return self.conn.execute(_LISTING, (mall_id, kind, state, limit)).fetchall()

    def get(self, mall_id: str, message_id: str, for_update: bool = False) -> dict[str, Any] | None:
        query = _ONE + sql.SQL(" FOR UPDATE") if for_update else _ONE
        row = self.conn.execute(query, (mall_id, message_id)).fetchone()
        if row is not None:
            row["attachments"] = self.attachments(message_id)
        return row

    def attachments(self, message_id: str) -> list[dict[str, Any]]:
        return self.conn.execute(
            "SELECT id, filename, content_type, size FROM intake.email_attachments WHERE message_id = %s"
            " ORDER BY position",
            (message_id,),
        ).fetchall()

    def contents(self, message_id: str) -> list[tuple[str, bytes]]:
        """Every attachment of a message as (file name, content), in order."""
        rows = self.conn.execute(
            "SELECT filename, content FROM intake.email_attachments WHERE message_id = %s ORDER BY position",
            (message_id,),
        ).fetchall()
        return [(row["filename"], bytes(row["content"])) for row in rows]

    def attachment(self, mall_id: str, message_id: str, attachment_id: str) -> dict[str, Any] | None:
        return self.conn.execute(
            "SELECT a.filename, a.content_type, a.content FROM intake.email_attachments a"
            " JOIN intake.email_messages m ON m.id = a.message_id WHERE m.mall_id = %s AND m.id = %s AND a.id = %s",
            (mall_id, message_id, attachment_id),
        ).fetchone()

    def decide(self, message_id: str, state: str, complaint_id: str | None, by: str, at: datetime) -> None:
        self.conn.execute(
            "UPDATE intake.email_messages SET state = %s, complaint_id = coalesce(%s, complaint_id), decided_by = %s,"
            " decided_at = %s WHERE id = %s",
            (state, complaint_id, by, at, message_id),
        )

    def of_complaint(self, mall_id: str, complaint_id: str) -> list[dict[str, Any]]:
        """The complaint's first message and the customer's answers, oldest first."""
        rows = self.conn.execute(_OF_COMPLAINT, (mall_id, complaint_id)).fetchall()
        for row in rows:
            row["attachments"] = self.attachments(str(row["id"]))
        return rows

    def save_status(self, mall_id: str, mailbox: str, status: dict[str, Any], at: datetime) -> None:
        self.conn.execute(
            "INSERT INTO intake.mailbox_status (mall_id, mailbox, connected, failures, last_error, last_ok_at,"
            " next_retry_at, updated_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
            " ON CONFLICT (mall_id, mailbox) DO UPDATE SET connected = EXCLUDED.connected,"
            " failures = EXCLUDED.failures, last_error = EXCLUDED.last_error,"
            " last_ok_at = coalesce(EXCLUDED.last_ok_at, intake.mailbox_status.last_ok_at),"
            " next_retry_at = EXCLUDED.next_retry_at, updated_at = EXCLUDED.updated_at",
            (
                mall_id,
                mailbox,
                status["connected"],
                status["failures"],
                status.get("last_error"),
                status.get("last_ok_at"),
                status.get("next_retry_at"),
                at,
            ),
        )

    def statuses(self, mall_id: str) -> list[dict[str, Any]]:
        return self.conn.execute(
            "SELECT * FROM intake.mailbox_status WHERE mall_id = %s ORDER BY mailbox", (mall_id,)
        ).fetchall()
