"""Retention's records: the job's lock, the erasure requests made (by the job or by another service
for a customer), and the services' answers to them; and what the operators' gauges read of them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import psycopg

_NEWEST_EVENT = """
SELECT extract(epoch FROM stored_at - occurred_at) AS lag
  FROM reporting.events
 ORDER BY stored_at DESC
 LIMIT 1
"""
_DUE = """
SELECT count(*) AS due
  FROM reporting.cases
 WHERE mall_id = %(mall)s AND erased_at IS NULL AND closed_at IS NOT NULL AND closed_at < %(cutoff)s
"""
_UNANSWERED = """
SELECT s.service, count(*) AS waiting
  FROM reporting.retention_requests r
 CROSS JOIN unnest(r.complaint_ids) AS c (complaint_id)
 CROSS JOIN unnest(%(services)s::text[]) AS s (service)
 WHERE r.mall_id = %(mall)s AND r.requested_at > %(since)s
   AND NOT EXISTS (SELECT 1 FROM reporting.retention_answers a
                    WHERE a.service = s.service AND a.complaint_id = c.complaint_id)
 GROUP BY s.service
"""


class RetentionLog:
    def __init__(self, conn: psycopg.Connection):
        self.conn = conn

    def take_job_lock(self) -> bool:
        """Whether this transaction may run the retention job: only one runs at a time."""
        row = self.conn.execute(
            "SELECT pg_try_advisory_xact_lock(hashtext('reporting.retention')) AS taken"
        ).fetchone()
        return row["taken"]

    def add_request(
        self, request_id: str, mall_id: str, closed_before: date, complaint_ids: list[str], at: datetime
    ) -> None:
        """The job's own request: the cases closed before its cut-off day."""
        self.conn.execute(
            "INSERT INTO reporting.retention_requests (id, mall_id, closed_before, complaint_ids, requested_at)"
            " VALUES (%s, %s, %s, %s, %s)",
            (request_id, mall_id, closed_before, complaint_ids, at),
        )

    def keep_request(
        self, request_id: str, mall_id: str, complaint_ids: list[str], at: datetime, reason: str
    ) -> None:
        """An erasure request another service made (no cut-off day), kept beside retention's own."""
        self.conn.execute(
            "INSERT INTO reporting.retention_requests (id, mall_id, closed_before, complaint_ids, requested_at, reason)"
            " VALUES (%s, %s, NULL, %s, %s, %s) ON CONFLICT (id) DO NOTHING",
            (request_id, mall_id, complaint_ids, at, reason),
        )

    def record_answers(self, service: str, complaint_ids: list[str], at: datetime) -> None:
        """A service's answer to a request: it erased these complaints."""
        with self.conn.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO reporting.retention_answers (service, complaint_id, erased_at) VALUES (%s, %s, %s)"
                " ON CONFLICT DO NOTHING",
                [(service, complaint_id, at) for complaint_id in complaint_ids],
            )

    def projection_lag(self) -> float | None:
        """Seconds between the newest event kept and when it occurred; None before any event."""
        row = self.conn.execute(_NEWEST_EVENT).fetchone()
        return float(row["lag"]) if row else None

    def due(self, mall_id: str, cutoff: datetime) -> int:
        """Closed cases past the cut-off whose personal data is still kept."""
        return self.conn.execute(_DUE, {"mall": mall_id, "cutoff": cutoff}).fetchone()["due"]

    def unanswered(self, mall_id: str, since: datetime, services: list[str]) -> dict[str, Any]:
        """Per service, the complaints asked for since `since` it has not confirmed erasing."""
        rows = self.conn.execute(_UNANSWERED, {"mall": mall_id, "since": since, "services": services})
        return {row["service"]: row["waiting"] for row in rows}
