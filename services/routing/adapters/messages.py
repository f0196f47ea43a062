"""Messages from outside that arrived before their case waited for them."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

import psycopg


class MessageRepository:
    def __init__(self, conn: psycopg.Connection):
        self.conn = conn

    def buffer(
        self,
        case_id: str,
        name: str,
        payload: dict[str, Any],
        key: str,
        received_at: datetime,
        expires_at: datetime,
    ) -> bool:
        """Keep a message for later; False when one with the same idempotency key is already kept."""
        row = self.conn.execute(
            "INSERT INTO routing.pending_messages (id, case_id, name, payload, idempotency_key, received_at,"
            " expires_at) VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (idempotency_key) DO NOTHING RETURNING id",
            (
                uuid.uuid4(),
                case_id,
                name,
                json.dumps(payload, ensure_ascii=False),
                key,
                received_at,
                expires_at,
            ),
        ).fetchone()
        return row is not None

    def seen(self, key: str) -> bool:
        return (
            self.conn.execute(
                "SELECT 1 FROM routing.pending_messages WHERE idempotency_key = %s", (key,)
            ).fetchone()
            is not None
        )

    def waiting(self, case_id: str, now: datetime) -> list[dict[str, Any]]:
        """Undelivered, unexpired messages of a case, oldest first."""
        return self.conn.execute(
            "SELECT id, name, payload FROM routing.pending_messages WHERE case_id = %s AND delivered_at IS NULL"
            " AND expires_at > %s ORDER BY received_at",
            (case_id, now),
        ).fetchall()

    def delivered(self, message_id: str, at: datetime) -> None:
        self.conn.execute(
            "UPDATE routing.pending_messages SET delivered_at = %s WHERE id = %s", (at, message_id)
        )
