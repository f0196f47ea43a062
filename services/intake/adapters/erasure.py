"""Erasing the personal data intake holds for complaints past retention (docs/architecture.md "Retention")."""

from __future__ import annotations

import json

import psycopg

from services.common.personal import erase_customer, erase_personal, known_ids, scrub_text


def erase_complaints(conn: psycopg.Connection, complaint_ids: list[str]) -> list[str]:
    """Erase customer, narrative contacts, correction history and outbox copies; return the ids found."""
    rows = conn.execute(
        "SELECT id, customer, description FROM intake.complaints WHERE id = ANY(%s::uuid[]) FOR UPDATE",
        (known_ids(complaint_ids),),
    ).fetchall()
    found = [str(row["id"]) for row in rows]
    for row in rows:
        conn.execute(
            "UPDATE intake.complaints SET customer = %s, description = %s, updated_at = now() WHERE id = %s",
            (json.dumps(erase_customer(row["customer"]), ensure_ascii=False), scrub_text(row["description"]),
             row["id"]),
        )  # fmt: skip
    _erase_history(conn, found)
    _erase_outbox(conn, found)
    return found


def _erase_history(conn: psycopg.Connection, found: list[str]) -> None:
    rows = conn.execute(
        "SELECT id, reason, changes FROM intake.complaint_history WHERE complaint_id = ANY(%s::uuid[])",
        (found,),
    ).fetchall()
    for row in rows:
        conn.execute(
            "UPDATE intake.complaint_history SET reason = %s, changes = %s WHERE id = %s",
            (
                scrub_text(row["reason"]),
                json.dumps(erase_personal(row["changes"]), ensure_ascii=False),
                row["id"],
            ),
        )


def _erase_outbox(conn: psycopg.Connection, found: list[str]) -> None:
    rows = conn.execute(
        "SELECT id, envelope FROM intake.outbox WHERE envelope ->> 'complaint_id' = ANY(%s)", (found,)
    ).fetchall()
    for row in rows:
        conn.execute(
            "UPDATE intake.outbox SET envelope = %s WHERE id = %s",
            (json.dumps(erase_personal(row["envelope"]), ensure_ascii=False), row["id"]),
        )
