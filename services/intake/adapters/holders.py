"""Who holds each case, from routing's task events, for unmasking personal data (the rule itself:
services/common/identity/holders.py), and which departments a notice of a case told (they read it)."""

from __future__ import annotations

from dataclasses import astuple
from datetime import datetime

import psycopg

from services.common.db import insert_many
from services.common.identity.holders import Holder
from services.intake.domain.cases import TaskHolder

__all__ = ["CaseHolders", "Holder", "departments_told", "open_holders"]

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

    def tell_department(self, complaint_id: str, department: str, at: datetime) -> None:
        """A notice of the case told `department`: it reads the complaint from now on."""
        self.conn.execute(
            "INSERT INTO intake.departments_told (complaint_id, department, told_at) VALUES (%s, %s, %s)"
            " ON CONFLICT DO NOTHING",
            (complaint_id, department, at),
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


def departments_told(conn: psycopg.Connection, complaint_id: str) -> list[str]:
    """The departments notices of the complaint's case told (most complaints: none)."""
    rows = conn.execute(
        "SELECT department FROM intake.departments_told WHERE complaint_id = %s ORDER BY department",
        (complaint_id,),
    ).fetchall()
    return [row["department"] for row in rows]
