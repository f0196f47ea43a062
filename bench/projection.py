"""Reporting's projection: CPU and statements per event, in-process, as its consumer applies them.

    .venv/bin/python bench/projection.py                  # 200 cases, about 2,800 events, 3 rounds
    .venv/bin/python bench/projection.py --cases 500 --rounds 5

Each round creates a database of its own (migrated, then dropped at the end, also on Ctrl+C) and
hands reporting's consumer the events of `--cases` complaint stories (the mixed stream of
`tests/integration/reporting/test_figures.py`: escalations, reopenings, callbacks, closures)
through its message bus, one transaction per event, as the broker
would deliver them. It prints, per event: the
Python CPU (`time.process_time`, this process), the wall time, and the statements sent
(`Cursor.execute` calls; BEGIN and COMMIT not counted). PostgreSQL's own CPU is not included.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time

import psycopg
from kombu import Connection

from bench.common import ADMIN_URL, database_url, drop_database, machine
from bench.common import create_database as create_empty_database
from services.common.bus.envelope import dump_envelope, load_envelope
from services.common.clock import MovableClock
from services.common.migrations import apply_migrations
from services.common.settings import load_settings
from services.reporting.bootstrap import bootstrap
from services.runner.registry import all_schemas
from tests.integration.reporting.test_figures import NOW, make_stories
from tests.support.stories import events


class StatementCounter:
    """Counts the statements psycopg sends while it is installed."""

    def __init__(self):
        self.count = 0
        self._original = psycopg.Cursor.execute

    def __enter__(self) -> StatementCounter:
        original = self._original

        def counting(cursor, *args, **kwargs):
            self.count += 1
            return original(cursor, *args, **kwargs)

        psycopg.Cursor.execute = counting
        return self

    def __exit__(self, *exc) -> None:
        psycopg.Cursor.execute = self._original


def one_round(admin_url: str, cases: int, seed: int) -> tuple[int, float, float, float]:
    """(events, CPU ms, wall ms, statements) per event, on a new database."""
    name = f"mall_bench_projection_{os.getpid()}_{seed}"
    with contextlib.ExitStack() as cleanup:
        create_empty_database(admin_url, name)
        cleanup.callback(drop_database, admin_url, name)
        url = database_url(admin_url, name)
        apply_migrations(url, all_schemas())
        settings = load_settings(
            {},
            database_url=url,
            amqp_url="memory://",
            auth_secret="bench-" + "x" * 40,
            mall_id="mall-1",
            log_level="WARNING",
        )
        reporting = bootstrap(settings, clock=MovableClock(NOW))
        reporting.pool.open(wait=True)
        cleanup.callback(reporting.pool.close)
        consumer = reporting.consumer(Connection("memory://"))
        stream = [
            (load_envelope(dump_envelope(event)), consumer.handlers.get(event.type, consumer.fallback))
            for story in make_stories(seed, cases)
            for event in events(story)
        ]
        with StatementCounter() as counter:
            cpu, wall = time.process_time(), time.perf_counter()
            for envelope, handler in stream:
                consumer.apply(envelope, handler)
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        total = len(stream)
        return total, 1000 * cpu / total, 1000 * wall / total, counter.count / total


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cases", type=int, default=200, help="complaint stories per round (default 200)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds, each on a new database (default 3)")
    parser.add_argument(
        "--admin-url",
        default=ADMIN_URL,
    )
    args = parser.parse_args(argv)
    m = machine()
    print(f"machine: {m['cpu']}, {m['cores']} cores, Python {m['python']}, {m['date']}", flush=True)
    results = []
    for round_ in range(1, args.rounds + 1):
        total, cpu, wall, statements = one_round(args.admin_url, args.cases, seed=round_)
        results.append(cpu)
        print(
            f"round {round_}: {total} events, {cpu:.3f} ms CPU, {wall:.3f} ms wall, "
            f"{statements:.2f} statements per event",
            flush=True,
        )
    print(f"best: {min(results):.3f} ms CPU per event")
    return 0


if __name__ == "__main__":
    sys.exit(main())
