"""The queries behind the weekly and monthly reports: each reads one period through one index.

Every query takes [start, end) and an optional scope (floors, departments) for a floor supervisor or a
department manager; `%(everything)s` is true when the caller sees the whole mall, which keeps one
statement text for both (psycopg's parse cache serves it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg

SCOPE = "(%(everything)s OR floor = ANY(%(floors)s) OR department = ANY(%(departments)s))"
LOCAL_DAY = "(({column} AT TIME ZONE %(zone)s)::date)"

# One scan of the period's complaints gives every count by dimension, the trend and the problems.
RECEIVED = f"""
SELECT GROUPING(category, channel, floor, merchant_code, department, {LOCAL_DAY.format(column="received_at")},
                problem_key) AS grouping_id,
       category, channel, floor, merchant_code, department, {LOCAL_DAY.format(column="received_at")} AS day,
       problem_key, max(merchant_name) AS merchant_name, max(merchant_unit) AS merchant_unit, max(category) AS problem_category,
       max(merchant_code) AS problem_merchant, max(floor) AS problem_floor, max(department) AS problem_department,
       count(*) AS count
  FROM reporting.cases
 WHERE mall_id = %(mall_id)s AND received_at >= %(start)s AND received_at < %(end)s AND {SCOPE}
 GROUP BY GROUPING SETS ((), (category), (channel), (floor), (merchant_code), (department),
                         ({LOCAL_DAY.format(column="received_at")}), (problem_key))
"""  # noqa: S608 — only constants are formatted in; values are parameters

# What customers asked for: a complaint asking for two things counts once under each (the read model
# keeps each request once). A statement of its own, through the same index: unnesting gives a row per
# request, which would count such a complaint twice in every dimension of RECEIVED.
REQUESTS = f"""
SELECT request, count(*) AS count
  FROM reporting.cases CROSS JOIN LATERAL unnest(customer_request) AS request
 WHERE mall_id = %(mall_id)s AND received_at >= %(start)s AND received_at < %(end)s AND {SCOPE}
 GROUP BY request
"""  # noqa: S608

# One sort gives both percentiles (the array form); the days are counted apart, by hashing.
RESOLVED = f"""
SELECT count(*) AS count,
       percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY extract(epoch FROM resolved_at - received_at))
           AS percentiles
  FROM reporting.cases
 WHERE mall_id = %(mall_id)s AND resolved_at >= %(start)s AND resolved_at < %(end)s
   AND received_at IS NOT NULL AND {SCOPE}
"""  # noqa: S608

RESOLVED_DAYS = f"""
SELECT {LOCAL_DAY.format(column="resolved_at")} AS day, count(*) AS count
  FROM reporting.cases
 WHERE mall_id = %(mall_id)s AND resolved_at >= %(start)s AND resolved_at < %(end)s
   AND received_at IS NOT NULL AND {SCOPE}
 GROUP BY 1
"""  # noqa: S608

# The cases closed in the period, and in the same scan what they were put down to (PROCESS.md,
# closing): by responsible party and by root cause, with the cost to the mall of each. The first row
# (grouping_id 3) is all of them.
CLOSED = f"""
SELECT GROUPING(responsible_party, root_cause) AS grouping_id, responsible_party, root_cause,
       count(*) AS closed, count(*) FILTER (WHERE reopen_count > 0) AS reopened,
       count(*) FILTER (WHERE closed_as = 'no_answer') AS no_answer,
       count(*) FILTER (WHERE closed_as = 'no_contact') AS no_contact,
       coalesce(sum(cost), 0) AS cost
  FROM reporting.cases
 WHERE mall_id = %(mall_id)s AND closed_at >= %(start)s AND closed_at < %(end)s AND {SCOPE}
 GROUP BY GROUPING SETS ((), (responsible_party), (root_cause))
 ORDER BY grouping_id DESC
"""  # noqa: S608

# The names the close forms gave the parties and causes (a few dozen rows a mall).
CLOSING_NAMES = "SELECT field, code, names FROM reporting.closing_names WHERE mall_id = %(mall_id)s"

# A reply is due in the period; on time when the first reply came by the date in force (postponements
# agreed included). Not yet due, closed before it was due without a reply (an outside route), or
# closed with nobody to reply to (an anonymous note) or merged into a collective complaint (whose reply
# answers it) is not counted; unanswered past the date is late.
REPLIES = f"""
SELECT count(*) FILTER (WHERE first_replied_at <= reply_due_at) AS on_time,
       count(*) FILTER (WHERE first_replied_at > reply_due_at
                           OR (first_replied_at IS NULL AND reply_due_at < %(now)s
                               AND (closed_at IS NULL OR closed_at > reply_due_at))) AS late
  FROM reporting.cases
 WHERE mall_id = %(mall_id)s AND reply_due_at >= %(start)s AND reply_due_at < %(end)s AND {SCOPE}
   AND closed_as IS DISTINCT FROM 'no_contact' AND closed_as IS DISTINCT FROM 'merged'
"""  # noqa: S608

ESCALATIONS = f"""
SELECT level, count(*) AS count FROM reporting.escalations
 WHERE mall_id = %(mall_id)s AND at >= %(start)s AND at < %(end)s AND {SCOPE}
 GROUP BY level
"""  # noqa: S608

CALLBACKS = f"""
SELECT count(*) AS calls, count(*) FILTER (WHERE reached) AS reached,
       count(*) FILTER (WHERE reached AND satisfied) AS satisfied
  FROM reporting.callbacks
 WHERE mall_id = %(mall_id)s AND at >= %(start)s AND at < %(end)s AND {SCOPE}
"""  # noqa: S608

REPORT_QUERIES = {
    "received": RECEIVED,
    "requests": REQUESTS,
    "resolved": RESOLVED,
    "resolved_days": RESOLVED_DAYS,
    "closed": CLOSED,
    "closing_names": CLOSING_NAMES,
    "replies": REPLIES,
    "escalations": ESCALATIONS,
    "callbacks": CALLBACKS,
}


@dataclass(frozen=True)
class Window:
    """One period of one mall, as the queries take it."""

    mall_id: str
    start: datetime
    end: datetime
    zone: str
    now: datetime
    scope: tuple[tuple[str, ...], tuple[str, ...]] | None = None

    def params(self) -> dict[str, Any]:
        floors, departments = self.scope or ((), ())
        return {
            "mall_id": self.mall_id,
            "start": self.start,
            "end": self.end,
            "zone": self.zone,
            "now": self.now,
            "everything": self.scope is None,
            "floors": list(floors),
            "departments": list(departments),
        }


class ReportQueries:
    def __init__(self, conn: psycopg.Connection):
        self.conn = conn

    def run(self, window: Window) -> dict[str, list[dict[str, Any]]]:
        """Every query of one period: name -> rows."""
        params = window.params()
        return {name: self.conn.execute(query, params).fetchall() for name, query in REPORT_QUERIES.items()}
