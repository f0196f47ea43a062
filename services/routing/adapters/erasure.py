"""Erasing the personal data routing holds for complaints past retention: the complaint inside each
case's workflow state, what staff wrote into tasks (timeline), messages, and the events it published."""

from __future__ import annotations

import json

import psycopg

from services.common.personal import erase_personal, known_ids


def erase_cases(conn: psycopg.Connection, complaint_ids: list[str]) -> list[str]:
    """Erase every copy of personal data of these cases; return the ids of the cases found."""
    rows = conn.execute(
        "SELECT id, state FROM routing.cases WHERE id = ANY(%s::uuid[]) FOR UPDATE",
        (known_ids(complaint_ids),),
    ).fetchall()
    found = [str(row["id"]) for row in rows]
    for row in rows:
        # json.dumps keeps the keys in the order they were read: the state column is `json` on purpose.
        conn.execute(
            "UPDATE routing.cases SET state = %s, revision = revision + 1 WHERE id = %s",
            (json.dumps(erase_personal(row["state"])), row["id"]),
        )
    _rewrite(conn, "SELECT id, detail AS body FROM routing.timeline WHERE case_id = ANY(%s::uuid[])",
             "UPDATE routing.timeline SET detail = %s WHERE id = %s", found)  # fmt: skip
    _rewrite(conn, "SELECT id, payload AS body FROM routing.pending_messages WHERE case_id = ANY(%s::uuid[])",
             "UPDATE routing.pending_messages SET payload = %s WHERE id = %s", found)  # fmt: skip
    _rewrite(conn, "SELECT id, envelope AS body FROM routing.outbox WHERE envelope ->> 'complaint_id' = ANY(%s)",
             "UPDATE routing.outbox SET envelope = %s WHERE id = %s", found)  # fmt: skip
    return found


def _rewrite(conn: psycopg.Connection, select: str, update: str, found: list[str]) -> None:
    for row in conn.execute(select, (found,)).fetchall():
        conn.execute(update, (json.dumps(erase_personal(row["body"]), ensure_ascii=False), row["id"]))
