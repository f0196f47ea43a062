"""The queries behind the operations manager's daily review: one index each, a day or the open cases."""

from __future__ import annotations

from typing import Any

import psycopg

from services.reporting.adapters.report_queries import Window

ITEM = (
    "c.complaint_id, c.number, c.received_at, c.channel, c.category, c.severity, c.floor, c.merchant_code,"
    " c.merchant_name, c.department, c.first_queue, c.open_queues, c.reply_due_at, c.first_replied_at,"
    " c.next_task_due_at, c.resolved_at, c.closed_at"
)
SCOPE_C = "(%(everything)s OR c.floor = ANY(%(floors)s) OR c.department = ANY(%(departments)s))"

# Each list: its size, and its first items (the oldest first, as a review reads them).
LISTS = {
    "new": f"""
        SELECT {ITEM}, count(*) OVER () AS total FROM reporting.cases c
         WHERE c.mall_id = %(mall_id)s AND c.received_at >= %(start)s AND c.received_at < %(end)s AND {SCOPE_C}
         ORDER BY c.received_at, c.complaint_id LIMIT %(limit)s""",  # noqa: S608 — constants formatted in, values are parameters
    # Open cases past the reply date without a reply, or with a task past its deadline, as of `now`.
    "overdue": f"""
        SELECT {ITEM}, count(*) OVER () AS total FROM reporting.cases c
         WHERE c.mall_id = %(mall_id)s AND c.closed_at IS NULL AND c.received_at IS NOT NULL AND {SCOPE_C}
           AND ((c.first_replied_at IS NULL AND c.reply_due_at < %(now)s)
                OR (c.next_task_due_at IS NOT NULL AND c.next_task_due_at < %(now)s))
         ORDER BY least(c.reply_due_at, c.next_task_due_at), c.complaint_id LIMIT %(limit)s""",  # noqa: S608 — constants formatted in, values are parameters
    "escalated": f"""
        SELECT {ITEM}, e.levels, count(*) OVER () AS total FROM reporting.cases c
          JOIN (SELECT complaint_id, array_agg(level ORDER BY at) AS levels, min(at) AS first_at
                  FROM reporting.escalations
                 WHERE mall_id = %(mall_id)s AND at >= %(start)s AND at < %(end)s
                 GROUP BY complaint_id) e USING (complaint_id)
         WHERE {SCOPE_C}
         ORDER BY e.first_at, c.complaint_id LIMIT %(limit)s""",  # noqa: S608 — constants formatted in, values are parameters
    "resolved": f"""
        SELECT {ITEM}, count(*) OVER () AS total FROM reporting.cases c
         WHERE c.mall_id = %(mall_id)s AND c.resolved_at >= %(start)s AND c.resolved_at < %(end)s AND {SCOPE_C}
         ORDER BY c.resolved_at, c.complaint_id LIMIT %(limit)s""",  # noqa: S608 — constants formatted in, values are parameters
}


class ReviewQueries:
    def __init__(self, conn: psycopg.Connection):
        self.conn = conn

    def run(self, window: Window, limit: int) -> dict[str, list[dict[str, Any]]]:
        params = {**window.params(), "limit": limit}
        return {name: self.conn.execute(query, params).fetchall() for name, query in LISTS.items()}
