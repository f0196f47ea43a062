"""The checks on the databases: every service's schema read in one snapshot, so a complaint moving
between services while the audit runs is seen in one place or the other, never in neither.

Everything younger than the grace period (`settle`) is left out: a complaint accepted a moment ago
is still on its way to routing, and that is not a finding.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta

import psycopg
from psycopg.rows import dict_row

from services.audit.model import AuditReport, Finding

OUTBOXES = ("intake", "routing", "notify", "reporting")

MISSING_CASE = """
SELECT c.id::text, c.mall_id, c.number, c.received_at FROM intake.complaints c
 WHERE c.received_at < now() - %(settle)s
   AND NOT EXISTS (SELECT 1 FROM routing.cases r WHERE r.id = c.id)
 ORDER BY c.received_at"""
ORPHAN_CASE = """
SELECT r.id::text, r.mall_id, r.number FROM routing.cases r
 WHERE NOT EXISTS (SELECT 1 FROM intake.complaints c WHERE c.id = r.id)"""
DOUBLE_CASE = """
SELECT mall_id, number, array_agg(id::text ORDER BY created_at) AS ids FROM routing.cases
 GROUP BY mall_id, number HAVING count(*) > 1"""
# A running case waits for someone (an open or claimed task) or for time (a timer: next_due_at).
STUCK_CASE = """
SELECT c.id::text, c.mall_id, c.number, c.updated_at FROM routing.cases c
 WHERE c.status = 'running' AND c.next_due_at IS NULL AND c.updated_at < now() - %(settle)s
   AND NOT EXISTS (SELECT 1 FROM routing.tasks t WHERE t.case_id = c.id AND t.state IN ('open', 'claimed'))"""
TASK_ON_CLOSED_CASE = """
SELECT t.id::text, t.case_id::text, t.number, t.element_id, t.state FROM routing.tasks t
  JOIN routing.cases c ON c.id = t.case_id
 WHERE c.status = 'completed' AND t.state IN ('open', 'claimed')"""
DOUBLE_OPEN_TASK = """
SELECT case_id::text, number, element_id, array_agg(id::text ORDER BY created_at) AS ids FROM routing.tasks
 WHERE state IN ('open', 'claimed') GROUP BY case_id, number, element_id HAVING count(*) > 1"""
INCIDENT = """
SELECT i.id::text, i.case_id::text, c.number, i.step, left(i.error, 300) AS error, i.at FROM routing.incidents i
  JOIN routing.cases c ON c.id = i.case_id WHERE i.resolved_at IS NULL"""
# reporting keeps each event once (its id is the key); two complaint.received of one complaint
# would be two events with different ids: the complaint published twice.
RECEIVED_IN_REPORTING = """
SELECT c.id::text, c.number, count(e.id) AS events,
       EXISTS (SELECT 1 FROM reporting.cases r WHERE r.complaint_id = c.id::text) AS in_read_model
  FROM intake.complaints c
  LEFT JOIN reporting.events e ON e.complaint_id = c.id::text AND e.type = 'complaint.received'
 WHERE c.received_at < now() - %(settle)s
 GROUP BY c.id, c.number
HAVING count(e.id) <> 1 OR NOT EXISTS (SELECT 1 FROM reporting.cases r WHERE r.complaint_id = c.id::text)"""
# A delivery recorded as sent twice reached its recipient twice (two workers each sent it and the
# provider accepted both).
SENT_TWICE = """
SELECT d.id::text, d.complaint_id::text, d.kind, d.channel, count(*) AS sends FROM notify.attempts a
  JOIN notify.deliveries d ON d.id = a.delivery_id WHERE a.outcome = 'sent'
 GROUP BY d.id HAVING count(*) > 1"""
# The diagram asks for one acknowledgement per complaint (at the start event); two requests of it
# mean a step ran twice.
DOUBLE_ACKNOWLEDGEMENT = """
SELECT complaint_id::text, number, recipient, array_agg(id::text ORDER BY seq) AS ids FROM notify.requests
 WHERE kind = 'acknowledgement' GROUP BY complaint_id, number, recipient HAVING count(*) > 1"""
# Sent again after a worker died mid-send: the provider may or may not have accepted the first try.
RESENT_AFTER_INTERRUPTION = """
SELECT d.id::text, d.complaint_id::text, d.kind, d.channel FROM notify.deliveries d
 WHERE d.state = 'sent' AND EXISTS (SELECT 1 FROM notify.attempts a WHERE a.delivery_id = d.id
                                     AND a.outcome = 'interrupted')"""
UNPUBLISHED = """
SELECT count(*) AS rows, extract(epoch FROM now() - min(created_at)) AS oldest_seconds,
       (array_agg(last_error ORDER BY created_at) FILTER (WHERE last_error IS NOT NULL))[1] AS last_error
  FROM {schema}.outbox WHERE published_at IS NULL AND created_at < now() - %(age)s"""
COUNTS = {  # name -> (schema, query): what the audit looked at
    "complaints": ("intake", "SELECT count(*) FROM intake.complaints"),
    "cases": ("routing", "SELECT count(*) FROM routing.cases"),
    "open_tasks": ("routing", "SELECT count(*) FROM routing.tasks WHERE state IN ('open', 'claimed')"),
    "deliveries": ("notify", "SELECT count(*) FROM notify.deliveries"),
    "reporting_events": ("reporting", "SELECT count(*) FROM reporting.events"),
}


def audit_books(conn: psycopg.Connection, report: AuditReport) -> None:
    """Add every finding of the databases to `report`, all read in one REPEATABLE READ snapshot."""
    conn.read_only = True
    conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
    window = {"settle": timedelta(seconds=report.settle_seconds)}
    with conn.transaction():
        cursor = conn.cursor(row_factory=dict_row)
        present = {schema for schema in OUTBOXES if _has(cursor, f"{schema}.outbox")}
        for name, (schema, query) in COUNTS.items():
            if schema in present:
                report.counts[name] = cursor.execute(query).fetchone()["count"]
        for schemas, check in CHECKS:
            if set(schemas) <= present:
                for finding in check(lambda query: cursor.execute(query, window).fetchall()):
                    report.findings.append(finding)
        if {"notify"} <= present:
            for row in cursor.execute(RESENT_AFTER_INTERRUPTION).fetchall():
                report.notices.append(_resent(row))
        for schema in sorted(present):
            report.findings.extend(_outbox(cursor, schema, report.outbox_seconds))


def _has(cursor: psycopg.Cursor, table: str) -> bool:
    return cursor.execute("SELECT to_regclass(%s) IS NOT NULL AS present", (table,)).fetchone()["present"]


Query = Callable[[str], list[dict]]


def missing_cases(query: Query) -> Iterator[Finding]:
    for row in query(MISSING_CASE):
        yield Finding(
            "missing_case",
            row["number"],
            f"accepted at {row['received_at']:%Y-%m-%d %H:%M:%S%z} by intake; routing has no case",
            {"complaint_id": row["id"], "mall_id": row["mall_id"]},
        )
    for row in query(ORPHAN_CASE):
        yield Finding(
            "orphan_case",
            row["number"],
            "routing has a case intake has no complaint for",
            {"case_id": row["id"], "mall_id": row["mall_id"]},
        )
    for row in query(DOUBLE_CASE):
        yield Finding(
            "double_case",
            row["number"],
            f"{len(row['ids'])} cases for one complaint number",
            {"case_ids": row["ids"], "mall_id": row["mall_id"]},
        )


def task_checks(query: Query) -> Iterator[Finding]:
    for row in query(STUCK_CASE):
        yield Finding(
            "stuck_case",
            row["number"],
            "running, with no open task, no timer and no incident",
            {"case_id": row["id"], "updated_at": row["updated_at"].isoformat()},
        )
    for row in query(TASK_ON_CLOSED_CASE):
        yield Finding(
            "task_on_closed_case",
            row["number"],
            f"task {row['element_id']} is {row['state']} on a completed case",
            {"task_id": row["id"], "case_id": row["case_id"]},
        )
    for row in query(DOUBLE_OPEN_TASK):
        yield Finding(
            "double_open_task",
            row["number"],
            f"{len(row['ids'])} open tasks at {row['element_id']}",
            {"case_id": row["case_id"], "task_ids": row["ids"]},
        )
    for row in query(INCIDENT):
        yield Finding(
            "incident",
            row["number"],
            f"step {row['step']} failed: {row['error']}",
            {"incident_id": row["id"], "case_id": row["case_id"]},
        )


def reporting_checks(query: Query) -> Iterator[Finding]:
    for row in query(RECEIVED_IN_REPORTING):
        if row["events"] != 1:
            yield Finding(
                "received_events",
                row["number"],
                f"reporting kept {row['events']} complaint.received events (one expected)",
                {"complaint_id": row["id"], "events": row["events"]},
            )
        if not row["in_read_model"]:
            yield Finding(
                "not_in_read_model",
                row["number"],
                "reporting's read model has no row for it",
                {"complaint_id": row["id"]},
            )


def notify_checks(query: Query) -> Iterator[Finding]:
    for row in query(SENT_TWICE):
        yield Finding(
            "sent_twice",
            row["complaint_id"],
            f"{row['kind']} by {row['channel']} was sent {row['sends']} times",
            {"delivery_id": row["id"], "sends": row["sends"]},
        )
    for row in query(DOUBLE_ACKNOWLEDGEMENT):
        yield Finding(
            "double_notification",
            row["number"],
            f"{len(row['ids'])} acknowledgements asked for {row['recipient']}",
            {"complaint_id": row["complaint_id"], "request_ids": row["ids"]},
        )


def _resent(row: dict) -> Finding:
    return Finding(
        "resent_after_interruption",
        row["complaint_id"],
        f"{row['kind']} by {row['channel']} sent again (same Message-ID) after a worker stopped"
        " mid-send; the recipient may have it twice",
        {"delivery_id": row["id"]},
    )


def _outbox(cursor: psycopg.Cursor, schema: str, age: float) -> list[Finding]:
    row = cursor.execute(UNPUBLISHED.format(schema=schema), {"age": timedelta(seconds=age)}).fetchone()
    if not row["rows"]:
        return []
    detail = f"{row['rows']} event(s) unpublished, the oldest {float(row['oldest_seconds']):.0f} s old"
    if row["last_error"]:
        detail += f"; last error: {row['last_error'][:200]}"
    return [Finding("outbox_backlog", f"{schema}.outbox", detail, {"rows": row["rows"]})]


CHECKS: list[tuple[tuple[str, ...], Callable[[Query], Iterator[Finding]]]] = [
    (("intake", "routing"), missing_cases),
    (("routing",), task_checks),
    (("intake", "reporting"), reporting_checks),
    (("notify",), notify_checks),
]
