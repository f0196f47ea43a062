"""Erasing the personal data routing holds of complaints (past retention, or when the customer asks):
the complaint inside each case's workflow state, what staff wrote into tasks (timeline, and a
completion an incident keeps), messages, incidents' errors, and the events it published."""

from __future__ import annotations

import json
from typing import Any

import psycopg

from services.common.personal import customer_masks, customers_in, erase_personal, known_ids, scrub_text

# (what to read, how to write it back) for each table holding a case's free JSON.
_JSON_PLACES = (
    (
        "SELECT id, detail AS body FROM routing.timeline WHERE case_id = %s",
        "UPDATE routing.timeline SET detail = %s WHERE id = %s",
    ),
    (
        "SELECT id, payload AS body FROM routing.pending_messages WHERE case_id = %s",
        "UPDATE routing.pending_messages SET payload = %s WHERE id = %s",
    ),
    (  # a completion kept for the retry holds what its handler typed
        "SELECT id, detail AS body FROM routing.incidents WHERE case_id = %s",
        "UPDATE routing.incidents SET detail = %s WHERE id = %s",
    ),
    (
        "SELECT id, envelope AS body FROM routing.outbox WHERE envelope ->> 'complaint_id' = %s::text",
        "UPDATE routing.outbox SET envelope = %s WHERE id = %s",
    ),
)


class CaseErasure:
    """Erasure as a repository of the unit of work (its `erasure`)."""

    def __init__(self, conn: psycopg.Connection):
        self.conn = conn

    def erase(self, complaint_ids: list[str]) -> list[str]:
        return erase_cases(self.conn, complaint_ids)


def erase_cases(conn: psycopg.Connection, complaint_ids: list[str]) -> list[str]:
    """Erase every copy of personal data of these cases; return the ids of the cases found."""
    rows = conn.execute(
        "SELECT id, state FROM routing.cases WHERE id = ANY(%s::uuid[]) FOR UPDATE",
        (known_ids(complaint_ids),),
    ).fetchall()
    for row in rows:
        _erase_case(conn, row)
    return [str(row["id"]) for row in rows]


def _erase_case(conn: psycopg.Connection, row: dict[str, Any]) -> None:
    """The customer's own details, as the workflow data holds them (the first and any corrected
    complaint), go from what staff typed too ("已致电王女士"), not only numbers and addresses."""
    known = customer_masks(*customers_in(row["state"]))
    # json.dumps keeps the keys in the order they were read: the state column is `json` on purpose.
    conn.execute(
        "UPDATE routing.cases SET state = %s, revision = revision + 1 WHERE id = %s",
        (json.dumps(erase_personal(row["state"], known)), row["id"]),
    )
    for select, update in _JSON_PLACES:
        for place in conn.execute(select, (row["id"],)).fetchall():
            conn.execute(
                update, (json.dumps(erase_personal(place["body"], known), ensure_ascii=False), place["id"])
            )
    for incident in conn.execute(
        "SELECT id, error FROM routing.incidents WHERE case_id = %s", (row["id"],)
    ).fetchall():
        conn.execute(
            "UPDATE routing.incidents SET error = %s WHERE id = %s",
            (scrub_text(incident["error"], known=known), incident["id"]),
        )
