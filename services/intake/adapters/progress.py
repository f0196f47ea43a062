"""How far each case has come, from routing's events, for the customers' status page.

The diagram declares which of its elements announce `complaint.replied`, `complaint.closed`,
`complaint.reopened` and `complaint.postponed` (with the new date the customer agreed to); intake
keeps the stage they leave the case in, never an element id. A late older event never undoes a
newer one.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime

import psycopg
from psycopg import sql

from services.intake.domain.cases import StageChange

# A complaint's stage as the customers' status page tells it (domain.status.stage_of), in SQL: the
# stage routing's events left it in, else handling once a task has reached it, else received.
# `{complaint}` is the column holding the complaint's id (for the lists' `stage` filter).
STAGE_OF = (
    "COALESCE((SELECT p.stage FROM intake.case_progress p WHERE p.complaint_id = {complaint}),"
    " CASE WHEN EXISTS (SELECT 1 FROM intake.case_holders h WHERE h.complaint_id = {complaint})"
    " THEN 'handling' ELSE 'received' END)"
)


@dataclass(frozen=True)
class Progress:
    """A case's stage (handling, replied, closed; None: no task yet), the reply date agreed later and
    when the customer was last answered."""

    stage: str | None = None
    postponed_to: date | None = None
    has_tasks: bool = False
    replied_at: datetime | None = None


class CaseProgress:
    """`intake.case_progress`: the stage each case is at, as routing's stage events told it."""

    def __init__(self, conn: psycopg.Connection):
        self.conn = conn

    def record(self, change: StageChange) -> None:
        """Apply one stage event of a case; a late older event never undoes a newer one."""
        self.conn.execute(
            "INSERT INTO intake.case_progress"
            " (complaint_id, mall_id, stage, postponed_to, event_at, replied_at)"
            " VALUES (%(complaint_id)s, %(mall_id)s, %(stage)s, %(postponed_to)s, %(event_at)s,"
            " CASE WHEN %(stage)s = 'replied' THEN %(event_at)s END)"
            " ON CONFLICT (complaint_id) DO UPDATE SET"
            " stage = CASE WHEN %(keeps_stage)s THEN intake.case_progress.stage ELSE EXCLUDED.stage END,"
            " postponed_to = COALESCE(EXCLUDED.postponed_to, intake.case_progress.postponed_to),"
            " replied_at = COALESCE(EXCLUDED.replied_at, intake.case_progress.replied_at),"
            " event_at = GREATEST(EXCLUDED.event_at, intake.case_progress.event_at)"
            " WHERE intake.case_progress.event_at <= EXCLUDED.event_at",
            asdict(change),
        )


def progress_of(conn: psycopg.Connection, complaint_id: str) -> Progress:
    row = conn.execute(
        "SELECT p.stage, p.postponed_to, p.replied_at,"
        " EXISTS (SELECT 1 FROM intake.case_holders h WHERE h.complaint_id = %(id)s) AS has_tasks"
        " FROM (SELECT 1) AS one LEFT JOIN intake.case_progress p ON p.complaint_id = %(id)s",
        {"id": complaint_id},
    ).fetchone()
    return Progress(row["stage"], row["postponed_to"], row["has_tasks"], row["replied_at"])


def stages_of(conn: psycopg.Connection, complaint_ids: list[str]) -> dict[str, dict]:
    """complaint id -> {stage (STAGE_OF), reply_date_postponed_to} for a page of the list."""
    if not complaint_ids:
        return {}
    statement = sql.SQL(
        "SELECT c.id, {} AS stage,"
        " (SELECT p.postponed_to FROM intake.case_progress p WHERE p.complaint_id = c.id) AS postponed_to"
        " FROM intake.complaints c WHERE c.id = ANY(%s::uuid[])"
    )
    rows = conn.execute(
        statement.format(sql.SQL(STAGE_OF.format(complaint="c.id"))), (complaint_ids,)
    ).fetchall()
    return {
        str(row["id"]): {"stage": row["stage"], "reply_date_postponed_to": row["postponed_to"]}
        for row in rows
    }
