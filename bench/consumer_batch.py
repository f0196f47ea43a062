"""One consumer draining a queue: commits and CPU per event with batches off (each delivery its own
transaction) and on (the deliveries in hand in one transaction, CONSUMER_BATCH_SIZE).

    .venv/bin/python bench/consumer_batch.py                        # ~1 min: 2000 events, 3 rounds
    .venv/bin/python bench/consumer_batch.py --events 5000 --rounds 5 --batch-size 50 --wait-idle 60

A database of the run's own (`mall_bench_consumer_<pid>`, an inbox table as the services have,
removed at the end, also on Ctrl+C or an error) and queues of the run's own in RabbitMQ's default
vhost (deleted at the end). Each round publishes N events, waits until all are in the queue, then
times one EventConsumer (a thread of this process, the real class) draining them with a handler
that does nothing: what is measured is the consumer's own cost, its inbox row and its commit.
Off and on alternate within each round (on a shared virtual machine, minutes apart compares the host).

Per run it prints events/s, commits per event (the distinct transactions that wrote the inbox rows,
and PostgreSQL's own xact_commit count for the database), and CPU ms per event of this process
(the consumer) and of the database's PostgreSQL backends.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import sys
import threading
import time
import uuid
from datetime import UTC, datetime

import psycopg
from kombu import Connection, Producer
from psycopg_pool import ConnectionPool

from bench.common import (
    _own_cpu,
    _postgres_is_ours,
    _processes,
    add_admin_url,
    create_database,
    database_url,
    drop_database,
    machine,
    postgres_facts,
    run_dropping_on_stop,
    wait_idle,
)
from services.common.bus.consumer import EventConsumer
from services.common.bus.topology import EVENTS_EXCHANGE, consumer_queues

AMQP_URL = os.environ.get("BENCH_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//")
SCHEMA = "bench"


class CountingConsumer(EventConsumer):
    """The real consumer, saying when it has applied the round's events."""

    def __init__(self, expected: int, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.expected, self.applied, self.done = expected, 0, threading.Event()

    def apply_all(self, deliveries):
        applied = super().apply_all(deliveries)
        self.applied += len(deliveries)
        if self.applied >= self.expected:
            self.done.set()
        return applied


def envelope(number: int) -> dict:
    return {
        "id": str(uuid.uuid4()),
        "type": "bench.event",
        "occurred_at": datetime.now(UTC).isoformat(),
        "complaint_id": None,
        "mall_id": "bench",
        "actor": {"id": "bench", "role": None},
        "correlation_id": f"bench-{number}",
        "payload": {"number": number},
        "schema_version": 1,
    }


def publish(queues, events: int) -> None:
    with Connection(AMQP_URL) as connection:
        for queue in queues.all():  # bound before the events are published, so none is lost
            queue(connection.default_channel).declare()
        producer = Producer(connection.default_channel, exchange=EVENTS_EXCHANGE)
        for number in range(events):
            producer.publish(envelope(number), routing_key=queues.main.name, declare=[EVENTS_EXCHANGE])
        queue = queues.main(connection.default_channel)
        while queue.queue_declare(passive=True).message_count < events:
            time.sleep(0.05)


def xact_commits(url: str, database: str) -> int:
    """PostgreSQL's count of commits in the database (its statistics lag up to a second: waited for)."""
    time.sleep(1.5)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SELECT pg_stat_clear_snapshot()")
        return conn.execute(
            "SELECT xact_commit FROM pg_stat_database WHERE datname = %s", (database,)
        ).fetchone()[0]


def one_run(pool: ConnectionPool, url: str, database: str, queues, events: int, batch_size: int) -> dict:
    with pool.connection() as conn:
        conn.execute(f"TRUNCATE {SCHEMA}.inbox")
    publish(queues, events)
    consumer = CountingConsumer(
        events,
        Connection(AMQP_URL),
        pool,
        SCHEMA,
        queues,
        {"bench.event": lambda conn, envelope: None},
        batch_size=batch_size,
    )
    commits_before = xact_commits(url, database)
    procs, own, began = _processes(), _own_cpu(), time.perf_counter()
    thread = threading.Thread(target=consumer.run, daemon=True)
    thread.start()
    consumer.done.wait(600)
    elapsed = time.perf_counter() - began
    own_cpu, after = _own_cpu() - own, _processes()
    consumer.should_stop = True
    thread.join(10)
    pg_cpu = sum(
        cpu - procs.get(pid, (0, "", 0.0))[2]
        for pid, (_, name, cpu) in after.items()
        if name == "postgres" and _postgres_is_ours(pid, database)
    )
    with pool.connection() as conn:
        counted = conn.execute(f"SELECT count(DISTINCT xmin::text) AS n FROM {SCHEMA}.inbox").fetchone()
    transactions = counted["n"]  # the transactions that wrote an inbox row: the consumer's commits
    commits = xact_commits(url, database) - commits_before - 1  # less the count's own statement
    return {
        "batch_size": batch_size,
        "per_second": events / elapsed,
        "writing_transactions_per_event": transactions / events,
        "xact_commit_per_event": commits / events,
        "ms_consumer": 1000 * own_cpu / events,
        "ms_pg": 1000 * pg_cpu / events,
    }


def report(row: dict) -> None:
    print(
        f"  batch {row['batch_size']:>3}: {row['per_second']:7.0f} events/s"
        f"  commits/event {row['writing_transactions_per_event']:.3f} (xact_commit {row['xact_commit_per_event']:.3f})"
        f"  CPU ms/event consumer {row['ms_consumer']:.3f}  pg {row['ms_pg']:.3f}",
        flush=True,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=50)
    parser.add_argument(
        "--wait-idle", type=float, default=0, help="wait up to this many s for an idle machine"
    )
    parser.add_argument("--json", help="write the figures here")
    add_admin_url(parser)
    return run_dropping_on_stop(run, parser.parse_args(argv))


def run(args) -> int:
    database = f"mall_bench_consumer_{os.getpid()}"
    url = database_url(args.admin_url, database)
    queues = consumer_queues(f"bench.consumer_batch.{os.getpid()}", [f"bench.consumer_batch.{os.getpid()}"])
    create_database(args.admin_url, database)
    pool = ConnectionPool(
        url, min_size=1, max_size=2, kwargs={"row_factory": psycopg.rows.dict_row}, open=True
    )
    rows: list[dict] = []
    try:
        with pool.connection() as conn:
            conn.execute(
                f"CREATE SCHEMA {SCHEMA}; CREATE TABLE {SCHEMA}.inbox (consumer text NOT NULL,"
                " message_id text NOT NULL, handled_at timestamptz NOT NULL DEFAULT now(),"
                " PRIMARY KEY (consumer, message_id))"
            )
        print(json.dumps({**machine(), **postgres_facts(url)}), flush=True)
        if args.wait_idle:
            wait_idle(args.wait_idle, announce=True)
        for round_number in range(1, args.rounds + 1):
            print(f"round {round_number} ({args.events} events)", flush=True)
            for batch_size in (1, args.batch_size):
                rows.append(one_run(pool, url, database, queues, args.events, batch_size))
                report(rows[-1])
        print("median", flush=True)
        for batch_size in (1, args.batch_size):
            runs = [row for row in rows if row["batch_size"] == batch_size]
            report({key: statistics.median(row[key] for row in runs) for key in runs[0]})
        if args.json:
            with open(args.json, "w") as out:
                json.dump(rows, out, indent=2)
    finally:
        pool.close()
        with contextlib.suppress(Exception), Connection(AMQP_URL) as connection:
            for queue in queues.all():
                queue(connection.default_channel).delete()
        drop_database(args.admin_url, database)
    return 0


if __name__ == "__main__":
    sys.exit(main())
