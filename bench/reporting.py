"""Reporting at scale: the monthly report and the daily review over 1,000,000 cases of two years.

    .venv/bin/python bench/reporting.py                 # ~2-4 min on 2 cores (most of it loading)
    .venv/bin/python bench/reporting.py --cases 200000 --runs 3

The cases are bulk-loaded straight into the read model's tables (reporting.cases, escalations,
callbacks) with COPY, not through the broker and the projection: the point is what the report's
queries cost on a model of that size, not how fast events are projected. The data is spread evenly
over 2025-01-01 .. 2026-12-31 (about 1,370 complaints a day, 41,700 a month), with the mix of
categories, channels, floors, merchants, escalations, callbacks, reopenings and closures a mall sees.

It then times `build_report` (the month and the month before: the 16 queries the API runs) and
`daily_review` on one connection, a warm-up run first, and prints EXPLAIN (ANALYZE, BUFFERS) of every
query: the rows each scan node read and the pages it touched. Target: the monthly report under 1 s.
One run creates its database (`mall_bench_reporting_<pid>`) and drops it at the end, also on Ctrl+C.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
import uuid
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import psycopg
from psycopg.rows import dict_row

from bench.common import (
    add_admin_url,
    create_database,
    database_url,
    drop_database,
    machine,
    postgres_facts,
    run_dropping_on_stop,
    wait_idle,
)
from services.common.migrations import apply_migrations
from services.reporting.adapters.report_queries import REPORT_QUERIES, Window
from services.reporting.adapters.review_queries import LISTS
from services.reporting.domain.periods import day_of, parse_month
from services.reporting.service_layer.reports import build_report
from services.reporting.service_layer.review import daily_review
from services.reporting.service_layer.unit_of_work import UnitOfWork

ZONE = ZoneInfo("Asia/Shanghai")
START = datetime(2025, 1, 1, tzinfo=ZONE)
DAYS = 730
CATEGORIES = (
    ["price"] * 5
    + ["merchant_service"] * 5
    + ["quality"] * 3
    + ["environment"] * 3
    + ["facility", "facility", "fee", "staff_service", "emergency"]
)
CHANNELS = ["phone"] * 4 + ["on_site"] * 3 + ["web"] * 2 + ["email", "letter", "suggestion_box"]
FLOORS = ["B1", "1F", "2F", "3F", "4F", "5F", "6F", "7F"]
MERCHANTS = [
    (f"M-{floor}-{n:03d}", f"商户{floor}{n:02d}", floor) for floor in FLOORS[1:] for n in range(1, 41)
]
DEPARTMENTS = ["security", "cleaning", "engineering", "parking", "customer_service"]
LEVELS = ["operations_manager", "deputy_store_manager", "store_manager"]
CASE_COLUMNS = (
    "complaint_id",
    "mall_id",
    "number",
    "received_at",
    "channel",
    "category",
    "severity",
    "floor",
    "merchant_code",
    "merchant_name",
    "department",
    "first_queue",
    "problem_key",
    "customer_name",
    "customer_phone",
    "promised_reply_date",
    "reply_due_at",
    "first_replied_at",
    "resolved_at",
    "resolution_count",
    "reopen_count",
    "escalation_count",
    "closed_at",
    "closed_as",
    "callback_count",
    "callback_reached",
    "callback_satisfied",
    "next_task_due_at",
    "customer_request",
    "cost",
    "responsible_party",
    "root_cause",
)
# The close form's choices, in turn by the case's index (not drawn, as REQUESTS), with their names.
PARTIES = (
    ("merchant", "商户"),
    ("mall", "商场"),
    ("merchant", "商户"),
    ("customer", "顾客"),
    ("third_party", "第三方"),
)
CAUSES = (
    ("service_attitude", "服务态度"),
    ("product_quality", "商品质量"),
    ("price", "价格与促销"),
    ("facility", "设施设备"),
    ("misunderstanding", "顾客误解"),
    ("other", "其他"),
    ("procedure", "管理制度与流程"),
)
# What customers ask for, in turn (not drawn: the random stream, hence every other column, stays as it was).
REQUESTS = (
    ["refund"],
    ["exchange"],
    ["refund", "apology"],
    ["repair"],
    [],
    ["compensation", "apology"],
    ["refund"],
    ["other"],
)
EVENT_COLUMNS = ("event_id", "complaint_id", "mall_id", "at", "floor", "department")


def _case(
    rng: random.Random, index: int, count: int, now: datetime
) -> tuple[tuple, list[tuple], list[tuple]]:
    # complaints arrive in time order, and so are their rows written (as the projection writes them)
    received = START + timedelta(seconds=(index + rng.random()) * DAYS * 86400 / count)
    merchant = rng.choice(MERCHANTS) if rng.random() < 0.6 else None
    floor = merchant[2] if merchant else rng.choice(FLOORS)
    department = None if merchant else rng.choice(DEPARTMENTS)
    category = rng.choice(CATEGORIES)
    promised = received.astimezone(ZONE).date() + timedelta(days=3)
    due = datetime.combine(promised + timedelta(days=3 * (rng.random() < 0.1)), datetime.max.time(), ZONE)
    resolved = received + timedelta(hours=rng.lognormvariate(3.3, 0.9))
    replied = resolved + timedelta(hours=rng.uniform(0.5, 30))
    reopened = rng.random() < 0.06
    closed = replied + timedelta(hours=rng.uniform(24, 60)) + timedelta(days=3 * reopened)
    # one in 200 stays with its first handler, unanswered: the open, overdue cases of the daily review
    stuck = rng.random() < 0.005
    now = received if stuck else now
    done = closed < now
    cid = str(uuid.UUID(int=rng.getrandbits(128)))
    escalations = [
        (str(uuid.uuid4()), received + timedelta(hours=24 * (n + 1)), rng.choice(LEVELS))
        for n in range(rng.choice([0, 0, 0, 0, 1, 1, 2]))
    ]
    reached = rng.random() < 0.85
    callbacks = (
        [
            (
                str(uuid.uuid4()),
                replied + timedelta(hours=rng.uniform(24, 48)),
                reached,
                reached and rng.random() < 0.8,
            )
        ]
        if done
        else []
    )
    place = f"merchant:{merchant[0]}" if merchant else f"floor:{floor}"
    row = (
        cid,
        "demo",
        f"TS-{received:%Y%m%d}-{index % 10000:04d}",
        received,
        rng.choice(CHANNELS),
        category,
        "major" if rng.random() < 0.01 else "normal",
        floor,
        merchant and merchant[0],
        merchant and merchant[1],
        department,
        "floor_supervisor" if merchant else "department_manager",
        f"{category}|{place}",
        "王女士",
        "13912345678",
        promised,
        due,
        replied if replied < now else None,
        resolved if resolved < now else None,
        1 + reopened,
        int(reopened),
        len(escalations),
        closed if done else None,
        "resolved" if done else None,
        len(callbacks),
        reached if done else None,
        (reached and callbacks[0][3]) if done else None,
        received + timedelta(hours=24) if stuck else None,
        REQUESTS[index % len(REQUESTS)],
        *(_closing(index) if done else (None, None, None)),
    )
    tail = (cid, "demo")
    return (
        row,
        [(e[0], *tail, e[1], e[2], floor, department) for e in escalations],
        [(c[0], *tail, c[1], c[2], c[3], floor, department) for c in callbacks],
    )


def _closing(index: int) -> tuple:
    """Cost (yuan), responsible party and root cause of a closed case."""
    return (index % 6) * 25, PARTIES[index % len(PARTIES)][0], CAUSES[index % len(CAUSES)][0]


def load(url: str, count: int, seed: int = 20261122) -> float:
    """COPY `count` cases with their escalations and callbacks; seconds taken."""
    rng, began, now = random.Random(seed), time.monotonic(), START + timedelta(days=DAYS)
    escalations, callbacks = [], []
    with psycopg.connect(url) as conn, conn.cursor() as cursor:
        with cursor.copy(f"COPY reporting.cases ({', '.join(CASE_COLUMNS)}) FROM STDIN") as copy:
            for index in range(count):
                row, escalated, called = _case(rng, index, count, now)
                copy.write_row(row)
                escalations += escalated
                callbacks += called
        _copy(
            cursor,
            "escalations (event_id, complaint_id, mall_id, at, level, floor, department, element_id)",
            [(*item, "escalated_to") for item in escalations],
        )
        _copy(
            cursor,
            "callbacks (event_id, complaint_id, mall_id, at, reached, satisfied, floor, department)",
            callbacks,
        )
        named = [("responsible_party", code, {"zh-CN": name}) for code, name in dict(PARTIES).items()]
        named += [("root_cause", code, {"zh-CN": name}) for code, name in CAUSES]
        _copy(
            cursor,
            "closing_names (mall_id, field, code, names)",
            [("demo", field, code, json.dumps(names, ensure_ascii=False)) for field, code, names in named],
        )
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE reporting.cases, reporting.escalations, reporting.callbacks")
    return time.monotonic() - began


def _copy(cursor, target: str, rows: list[tuple]) -> None:
    with cursor.copy(f"COPY reporting.{target} FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def timed(action, runs: int) -> list[float]:
    action()  # warm the cache and psycopg's prepared statements
    samples = []
    for _ in range(runs):
        began = time.perf_counter()
        action()
        samples.append((time.perf_counter() - began) * 1000)
    return samples


def explain(conn, name: str, query: str, params: dict) -> None:
    """One line per query: its time, and the rows and pages each scan node read."""
    [[plan]] = conn.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + query, params).fetchone().values()
    top, scans = plan["Plan"], []

    def walk(node):
        if "Scan" in node["Node Type"]:
            rows = node["Actual Rows"] * node["Actual Loops"]
            index = node.get("Index Name") or node.get("Relation Name", "")
            scans.append(
                f"{node['Node Type']} {index}: {rows:,} rows, "
                f"{node.get('Shared Hit Blocks', 0) + node.get('Shared Read Blocks', 0):,} pages"
            )
        for child in node.get("Plans", []):
            walk(child)

    walk(top)
    print(f"  {name:<12} {plan['Execution Time']:8.1f} ms  " + " | ".join(scans))


def run(args) -> int:
    name = f"mall_bench_reporting_{os.getpid()}"
    url = database_url(args.admin_url, name)
    create_database(args.admin_url, name)
    try:
        apply_migrations(url, ["reporting"])
        facts = machine(**postgres_facts(url))
        print("machine: " + ", ".join(f"{key} {value}" for key, value in facts.items()))
        print(f"loading {args.cases:,} cases over {DAYS} days with COPY ...", flush=True)
        print(f"loaded in {load(url, args.cases):.0f} s")
        measure(url, args)
    finally:
        drop_database(args.admin_url, name)
    return 0


def measure(url: str, args) -> None:
    month, day = parse_month(args.month), date.fromisoformat(args.day)
    now = datetime.combine(day, datetime.min.time(), ZONE) + timedelta(hours=17)
    with psycopg.connect(url, row_factory=dict_row) as conn:
        total = conn.execute("SELECT count(*) AS n FROM reporting.cases").fetchone()["n"]
        in_month = conn.execute(
            "SELECT count(*) AS n FROM reporting.cases WHERE received_at >= %s AND received_at < %s",
            month.bounds(ZONE),
        ).fetchone()["n"]
        print(f"\nreporting.cases: {total:,} rows; received in {month.label}: {in_month:,}")
        busy = wait_idle(args.wait_idle, announce=True) if args.wait_idle else None
        print(
            f"the machine was {busy:.0f}% busy before the timed runs" if busy is not None else "", flush=True
        )
        uow = UnitOfWork(pool=None, outbox=None, conn=conn)  # joined: the queries on this connection
        with uow:
            report = timed(lambda: build_report(uow, "demo", month, ZONE, now), args.runs)
            review = timed(lambda: daily_review(uow, "demo", day, ZONE, now, 100), args.runs)
        print(
            f"monthly report {month.label} (+ {month.previous().label}): median {statistics.median(report):.0f} ms,"
            f" min {min(report):.0f}, max {max(report):.0f}  (target < 1000 ms)"
        )
        print(
            f"daily review {day}: median {statistics.median(review):.0f} ms, min {min(review):.0f},"
            f" max {max(review):.0f}"
        )
        start, end = month.bounds(ZONE)
        print(f"\nEXPLAIN (ANALYZE, BUFFERS), monthly report of {month.label}:")
        for query_name, query in REPORT_QUERIES.items():
            explain(conn, query_name, query, Window("demo", start, end, ZONE.key, now).params())
        print(f"EXPLAIN (ANALYZE, BUFFERS), daily review of {day}:")
        window = Window("demo", *day_of(day).bounds(ZONE), ZONE.key, now)
        for query_name, query in LISTS.items():
            explain(conn, query_name, query, {**window.params(), "limit": 100})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5, help="timed runs of each (after one warm-up)")
    parser.add_argument("--month", default="2026-06", help="the month reported")
    parser.add_argument("--day", default="2026-06-15", help="the day reviewed")
    parser.add_argument(
        "--wait-idle", type=float, default=0, help="wait up to this many seconds for a calm machine"
    )
    add_admin_url(parser)
    args = parser.parse_args(argv)
    return run_dropping_on_stop(run, args)


if __name__ == "__main__":
    sys.exit(main())
