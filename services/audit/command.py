"""`python -m services audit` and `python -m services dead-letter`: run the checks, print, exit.

Exit codes: 0 the books agree, 1 findings, 2 a server could not be reached (nothing was checked).
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from typing import TextIO
from urllib.parse import urlsplit

import psycopg

from services.audit import dead_letters
from services.audit.books import audit_books
from services.audit.model import AuditReport, Finding
from services.common.bus.connection import BROKER_OUTAGES

CLEAN, FINDINGS, UNREACHABLE = 0, 1, 2


def run_audit(
    database_url: str, amqp_url: str | None, settle_seconds: float = 60, outbox_seconds: float = 60
) -> AuditReport:
    """Every check; raises psycopg.OperationalError, or one of BROKER_OUTAGES, when a server is away
    or refuses the audit (a wrong password, a vhost it may not use)."""
    report = AuditReport(datetime.now(UTC), settle_seconds, outbox_seconds)
    with psycopg.connect(database_url, connect_timeout=5, application_name="audit") as conn:
        audit_books(conn, report)
    if amqp_url and not amqp_url.startswith("memory://"):
        counts, findings, notices = dead_letters.audit_dead_letters(amqp_url)
        report.counts["dead_letters"] = sum(counts.values())
        report.findings += findings
        report.notices += notices
    else:
        report.notices.append(
            Finding("no_broker", "AMQP_URL", "no RabbitMQ set: dead-letter queues not read")
        )
    return report


def audit_command(
    database_url: str,
    amqp_url: str | None,
    settle_seconds: float,
    outbox_seconds: float,
    as_json: bool,
    out: TextIO = sys.stdout,
) -> int:
    try:
        report = run_audit(database_url, amqp_url, settle_seconds, outbox_seconds)
    except psycopg.OperationalError as exc:
        return unreachable("PostgreSQL", database_url, exc)
    except BROKER_OUTAGES as exc:
        return unreachable("RabbitMQ", amqp_url, exc)
    if as_json:
        json.dump(report.as_json(), out, ensure_ascii=False, indent=2, default=str)
        out.write("\n")
    else:
        out.write(summary(report))
    return CLEAN if report.clean else FINDINGS


def unreachable(server: str, url: str | None, exc: Exception) -> int:
    print(
        f"audit: cannot reach {server} at {where(url)}: {str(exc).strip() or type(exc).__name__}",
        file=sys.stderr,
    )
    print("audit: nothing was checked; try again once it answers", file=sys.stderr)
    return UNREACHABLE


def where(url: str | None) -> str:
    """host:port/name of a URL, without the password."""
    parts = urlsplit(url or "")
    return f"{parts.hostname}:{parts.port or ''}{parts.path}"


def summary(report: AuditReport) -> str:
    counts = ", ".join(f"{count} {name.replace('_', ' ')}" for name, count in report.counts.items())
    lines = [
        f"audit at {report.checked_at:%Y-%m-%d %H:%M:%S %Z} (grace {report.settle_seconds:g} s): {counts}"
    ]
    unread = any(notice.check == "no_broker" for notice in report.notices)
    if report.clean and unread:  # a complaint dead-lettered on its way would not show: not "clean"
        lines.append(
            "clean in PostgreSQL: every complaint has its case, tasks, report row and notifications once;"
            " the dead-letter queues were not read (set AMQP_URL to audit them too)"
        )
    elif report.clean:
        lines.append("clean: every complaint has its case, tasks, report row and notifications once")
    else:
        lines.append(f"{len(report.findings)} finding(s):")
        by_check: dict[str, list[Finding]] = {}
        for finding in report.findings:
            by_check.setdefault(finding.check, []).append(finding)
        for check, found in by_check.items():
            lines.append(f"  {check} ({len(found)})")
            lines += [f"    {finding.subject}: {finding.detail}" for finding in found[:20]]
            if len(found) > 20:
                lines.append(f"    … and {len(found) - 20} more (--json lists them all)")
    if report.notices:
        lines.append(f"{len(report.notices)} notice(s), not findings:")
        lines += [f"  {notice.check}: {notice.subject}: {notice.detail}" for notice in report.notices]
    return "\n".join(lines) + "\n"


def dead_letter_command(
    amqp_url: str | None, action: str, queue: str, message_id: str, reason: str | None
) -> int:
    if not amqp_url or amqp_url.startswith("memory://"):
        print("dead-letter: AMQP_URL must name the RabbitMQ server", file=sys.stderr)
        return UNREACHABLE
    try:
        if action == "replay":
            for letter in dead_letters.replay(amqp_url, queue, message_id):
                target = letter.failed_queue or letter.queue.removesuffix(".dead")
                print(f"replayed {letter.id} ({letter.type or 'no type'}) from {letter.queue} to {target}")
        else:
            for letter in dead_letters.discard(amqp_url, queue, message_id, reason or ""):
                print(f"discarded {letter.id} ({letter.type or 'no type'}) from {letter.queue}: {reason}")
    except LookupError as exc:
        print(f"dead-letter: {exc}", file=sys.stderr)
        return FINDINGS
    except BROKER_OUTAGES as exc:
        return unreachable("RabbitMQ", amqp_url, exc)
    return CLEAN
