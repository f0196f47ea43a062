"""Reporting's consumer as 1 and as 2 workers on the real RabbitMQ: events per second and CPU per event.

    .venv/bin/python bench/reporting_workers.py                      # 200 cases, 1 and 2 workers, 2 rounds
    .venv/bin/python bench/reporting_workers.py --workers 1 2 4 --rounds 3
    .venv/bin/python bench/reporting_workers.py --batch-sizes 1 50    # CONSUMER_BATCH_SIZE off and on

Each run has a database and a RabbitMQ vhost of its own (dropped at the end). The events of `--cases`
complaint stories (the stream of bench/projection.py, every case's events interleaved with the
others') are published to reporting's queue while no worker consumes; then N worker processes, each
reporting's consumer as `worker reporting` runs it, start consuming together and drain the queue.
Runs alternate between the worker counts within each round. It prints, per run: events per second
(from the start to the last event stored), the workers' CPU per event (their process time; PostgreSQL
and RabbitMQ not included), and a digest of the read model (the cases, their escalations and
callbacks, the problems with a CAPA record), which is the same for every count.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import multiprocessing
import os
import sys
import threading
import time
import uuid

import psycopg
from kombu import Connection, Producer

from bench.common import ADMIN_URL, create_database, database_url, drop_database, machine
from services.common.bus.envelope import dump_envelope
from services.common.bus.topology import EVENTS_EXCHANGE, SUBSCRIPTIONS, consumer_queues
from services.common.clock import MovableClock
from services.common.migrations import apply_migrations
from services.common.settings import Settings, load_settings
from services.reporting.bootstrap import EVENTS_QUEUE, bootstrap
from services.runner.registry import all_schemas
from tests.integration.reporting.test_figures import NOW, make_stories
from tests.support.servers import add_vhost, delete_vhost
from tests.support.stories import events

# The cases, in an order that does not depend on which worker wrote what or when. CAPA records are
# left out: which complaints a record covers depends on the order the complaints arrived in, with one
# worker as with two (only their problems are compared).
DIGESTED = (
    "SELECT to_jsonb(c) - 'updated_at' FROM reporting.cases c ORDER BY complaint_id",
    "SELECT to_jsonb(e) FROM reporting.escalations e ORDER BY event_id",
    "SELECT to_jsonb(c) FROM reporting.callbacks c ORDER BY event_id",
    "SELECT problem_key, status FROM reporting.capa ORDER BY problem_key",
)


def interleaved(cases: int, seed: int) -> list[dict]:
    """Every story's events in order, the stories' streams dealt out one event at a time."""
    streams = [[dump_envelope(event) for event in events(story)] for story in make_stories(seed, cases)]
    dealt = []
    while any(streams):
        dealt += [stream.pop(0) for stream in streams if stream]
    return dealt


def publish(amqp_url: str, bodies: list[dict]) -> None:
    with Connection(amqp_url) as connection:
        channel = connection.default_channel
        for queue in consumer_queues(EVENTS_QUEUE, SUBSCRIPTIONS[EVENTS_QUEUE]).all():
            queue.bind(channel).declare()
        channel.confirm_select()
        producer = Producer(channel, exchange=EVENTS_EXCHANGE)
        for body in bodies:
            producer.publish(
                body,
                routing_key=body["type"],
                serializer="json",
                delivery_mode=2,
                message_id=body["id"],
                type=body["type"],
            )


def worker(url: str, amqp_url: str, batch_size: int, ready, go, done, results) -> None:
    """One reporting worker process: its consumer from `go` until `done`; reports its CPU seconds."""
    settings = load_settings(
        {},
        database_url=url,
        amqp_url=amqp_url,
        auth_secret="bench-" + "x" * 40,
        mall_id="mall-1",
        log_level="WARNING",
        consumer_batch_size=batch_size,
    )
    reporting = bootstrap(settings, clock=MovableClock(NOW))
    reporting.pool.open(wait=True)
    consumer = reporting.consumer()
    ready.release()
    go.wait()
    started = time.process_time()

    def stop_when_done() -> None:
        done.wait()
        consumer.should_stop = True

    threading.Thread(target=stop_when_done, daemon=True).start()
    consumer.run()
    results.put(time.process_time() - started)
    reporting.pool.close()


def one_run(admin_url: str, bodies: list[dict], workers: int, batch_size: int) -> tuple[float, float, str]:
    """(events per second, worker CPU ms per event, read model digest) with `workers` processes,
    each applying up to `batch_size` deliveries per transaction."""
    name = f"mall_bench_rw_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    spawn = multiprocessing.get_context("spawn")
    with contextlib.ExitStack() as cleanup:
        create_database(admin_url, name)
        cleanup.callback(drop_database, admin_url, name)
        url = database_url(admin_url, name)
        apply_migrations(url, all_schemas())
        amqp_url = add_vhost(name)
        cleanup.callback(delete_vhost, name)
        publish(amqp_url, bodies)
        ready, go, done, results = spawn.Semaphore(0), spawn.Event(), spawn.Event(), spawn.Queue()
        processes = [
            spawn.Process(target=worker, args=(url, amqp_url, batch_size, ready, go, done, results))
            for _ in range(workers)
        ]
        for process in processes:
            process.start()
        cleanup.callback(lambda: [process.kill() for process in processes if process.is_alive()])
        for _ in processes:
            ready.acquire(timeout=120)
        with psycopg.connect(url, autocommit=True) as conn:
            started = time.perf_counter()
            go.set()
            while conn.execute("SELECT count(*) FROM reporting.events").fetchone()[0] < len(bodies):
                time.sleep(0.05)  # a benchmark's poll, not a test's wait
            wall = time.perf_counter() - started
            done.set()
            cpu = sum(results.get(timeout=120) for _ in processes)
            for process in processes:
                process.join(30)
            digest = hashlib.sha256()
            for query in DIGESTED:
                for row in conn.execute(query):
                    digest.update(repr(row).encode())
        return len(bodies) / wall, 1000 * cpu / len(bodies), digest.hexdigest()[:12]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cases", type=int, default=200, help="complaint stories per run (default 200)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="worker counts (default 1 2)")
    parser.add_argument("--rounds", type=int, default=2, help="rounds, each running every count (default 2)")
    parser.add_argument(
        "--batch-sizes",
        type=int,
        nargs="+",
        default=[Settings.consumer_batch_size],
        help=f"CONSUMER_BATCH_SIZE of the workers, each run with every count (default {Settings.consumer_batch_size})",
    )
    parser.add_argument(
        "--admin-url",
        default=ADMIN_URL,
    )
    args = parser.parse_args(argv)
    m = machine()
    print(f"machine: {m['cpu']}, {m['cores']} cores, Python {m['python']}, {m['date']}", flush=True)
    bodies = interleaved(args.cases, seed=1)
    best: dict[tuple[int, int], tuple[float, float]] = {}
    for round_ in range(1, args.rounds + 1):
        for count in args.workers:
            for batch in args.batch_sizes:
                rate, cpu, digest = one_run(args.admin_url, bodies, count, batch)
                print(
                    f"round {round_}, {count} worker(s), batch {batch}: {len(bodies)} events, {rate:.0f} events/s, "
                    f"{cpu:.3f} ms worker CPU per event, read model {digest}",
                    flush=True,
                )
                rates, cpus = best.get((count, batch), (0.0, float("inf")))
                best[count, batch] = (max(rates, rate), min(cpus, cpu))
    for (count, batch), (rate, cpu) in best.items():
        print(
            f"best, {count} worker(s), batch {batch}: {rate:.0f} events/s, {cpu:.3f} ms worker CPU per event"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
