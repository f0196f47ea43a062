"""Who holds each case, from routing's task events, for unmasking personal data (the rule itself:
services/common/identity/holders.py)."""

from __future__ import annotations

from dataclasses import astuple

import psycopg

from services.common.db import insert_many
from services.common.identity.holders import Holder
from services.intake.domain.cases import TaskHolder

__all__ = ["CaseHolders", "Holder", "open_holders"]

_INSERT = (
    "INSERT INTO intake.case_holders (task_id, complaint_id, mall_id, queue, floor, department,"
    " assignee, open, event_at, due_at) VALUES"
)
_NEWER_WINS = (
    "ON CONFLICT (task_id) DO UPDATE SET assignee = EXCLUDED.assignee, open = EXCLUDED.open,"
    " event_at = EXCLUDED.event_at, due_at = EXCLUDED.due_at"
    " WHERE intake.case_holders.event_at <= EXCLUDED.event_at"
)


class CaseHolders:
    """`intake.case_holders`: the tasks of each case, open or done, as routing's task events told them."""

    def __init__(self, conn: psycopg.Connection):
        self.conn = conn
        self._kept: dict[str, TaskHolder] = {}  # task id -> its newest holder not written yet

    def add(self, holder: TaskHolder) -> None:
        """Keep the task's holder until `write` (a batch's holders go in one statement); of two
        events of one task, the newer counts (the later one when they are as new)."""
        earlier = self._kept.get(holder.task_id)
        if earlier is None or earlier.event_at <= holder.event_at:
            self._kept[holder.task_id] = holder

    def write(self) -> None:
        """Write the holders kept; a late older event never undoes a newer one already written."""
        rows = [astuple(holder) for holder in self._kept.values()]  # in the columns' order
        self._kept.clear()
        insert_many(self.conn, _INSERT, rows, _NEWER_WINS)


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
