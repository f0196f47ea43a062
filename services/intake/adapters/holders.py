"""Who holds each case, from routing's task events, for unmasking personal data (the rule itself:
services/common/identity/holders.py)."""

from __future__ import annotations

import psycopg

from services.common.bus.envelope import TASK_CANCELLED, TASK_CLAIMED, TASK_COMPLETED, TASK_CREATED, Envelope
from services.common.identity.holders import Holder

__all__ = ["Holder", "open_holders", "record_task_event"]

OPENING = {TASK_CREATED, TASK_CLAIMED}
CLOSING = {TASK_COMPLETED, TASK_CANCELLED}


def record_task_event(conn: psycopg.Connection, envelope: Envelope) -> None:
    """Apply one task event; a late older event never undoes a newer one."""
    if envelope.type not in OPENING | CLOSING or not envelope.complaint_id:
        return
    payload = envelope.payload
    conn.execute(
        "INSERT INTO intake.case_holders (task_id, complaint_id, mall_id, queue, floor, department, assignee,"
        " open, event_at, due_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
        " ON CONFLICT (task_id) DO UPDATE SET assignee = EXCLUDED.assignee, open = EXCLUDED.open,"
        " event_at = EXCLUDED.event_at, due_at = EXCLUDED.due_at WHERE intake.case_holders.event_at <= EXCLUDED.event_at",
        (payload["task_id"], envelope.complaint_id, envelope.mall_id, payload["queue"], payload.get("floor"),
         payload.get("department"), payload.get("assignee"), envelope.type in OPENING, envelope.occurred_at,
         payload.get("due_at")),
    )  # fmt: skip
    if envelope.type == TASK_COMPLETED:
        _keep_resolution(conn, envelope.complaint_id, (payload.get("data") or {}).get("resolution"))


def _keep_resolution(conn: psycopg.Connection, complaint_id: str, resolution: object) -> None:
    """What a handler resolved, added to the complaint's searchable text (the inbox makes it once)."""
    if isinstance(resolution, str) and resolution.strip():
        conn.execute(
            "UPDATE intake.complaints SET resolutions = ltrim(resolutions || E'\\n' || %s, E'\\n') WHERE id = %s",
            (resolution.strip()[:4000], complaint_id),
        )


def open_holders(conn: psycopg.Connection, complaint_ids: list[str]) -> dict[str, list[Holder]]:
    """complaint id -> the open tasks of its case."""
    found: dict[str, list[Holder]] = {complaint_id: [] for complaint_id in complaint_ids}
    if not complaint_ids:
        return found
    rows = conn.execute(
        "SELECT complaint_id, queue, floor, department, assignee FROM intake.case_holders"
        " WHERE open AND complaint_id = ANY(%s::uuid[])",
        (complaint_ids,),
    ).fetchall()
    for row in rows:
        found[str(row["complaint_id"])].append(
            Holder(row["queue"], row["floor"], row["department"], row["assignee"])
        )
    return found
