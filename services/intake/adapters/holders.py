"""Who holds each case, from routing's task events, for unmasking personal data (the rule itself:
services/common/identity/holders.py)."""

from __future__ import annotations

from dataclasses import asdict

import psycopg

from services.common.identity.holders import Holder
from services.intake.domain.cases import TaskHolder

__all__ = ["CaseHolders", "Holder", "open_holders"]


class CaseHolders:
    """`intake.case_holders`: the tasks of each case, open or done, as routing's task events told them."""

    def __init__(self, conn: psycopg.Connection):
        self.conn = conn

    def record(self, holder: TaskHolder) -> None:
        """Keep the task's holder; a late older event never undoes a newer one."""
        self.conn.execute(
            "INSERT INTO intake.case_holders (task_id, complaint_id, mall_id, queue, floor, department,"
            " assignee, open, event_at, due_at) VALUES (%(task_id)s, %(complaint_id)s, %(mall_id)s,"
            " %(queue)s, %(floor)s, %(department)s, %(assignee)s, %(open)s, %(event_at)s, %(due_at)s)"
            " ON CONFLICT (task_id) DO UPDATE SET assignee = EXCLUDED.assignee, open = EXCLUDED.open,"
            " event_at = EXCLUDED.event_at, due_at = EXCLUDED.due_at"
            " WHERE intake.case_holders.event_at <= EXCLUDED.event_at",
            asdict(holder),
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
