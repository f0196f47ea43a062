"""The outbox relay draining a backlog: events/s, and CPU per event in the relay and in RabbitMQ.

    .venv/bin/python bench/relay.py                              # 5,000 events, 3 runs
    .venv/bin/python bench/relay.py --against d86905b --rounds 3 # and a worktree of d86905b, A B A B

Each run is a process of its own on the code of one checkout: a database of its own
(`mall_bench_relay_<pid>`, intake's schema migrated) and a RabbitMQ vhost of its own with one
durable queue bound to every event (as the consumers' queues are, so the broker stores each
message on disk before it confirms it). N events of a complaint's size go into intake's outbox in
one commit; then an `OutboxRelay` (batch --batch-size, as RELAY_BATCH_SIZE) runs in a thread until
the outbox is empty. Printed per run: events/s, CPU ms per event of the relay's thread and of the
whole process, of RabbitMQ (beam.smp, from /proc) and of this database's PostgreSQL backends, and
the share of the machine others used meanwhile (distrust runs where it is not near 0%).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import psycopg

from bench.common import (
    ADMIN_URL,
    AMQP_BASE,
    CLOCK_TICKS,
    _machine_busy,
    _own_cpu,
    _postgres_is_ours,
    _processes,
    create_database,
    database_url,
    drop_database,
    machine,
    rabbitmqctl,
    run_until_stopped,
    wait_idle,
)

ROOT = Path(__file__).resolve().parent.parent
FIGURES = (
    "events_per_s",
    "relay_thread_ms",
    "relay_process_ms",
    "rabbitmq_ms",
    "postgresql_ms",
    "others_pct",
)


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench/relay.py", description=__doc__.split("\n\n", 2)[2])
    parser.add_argument("-n", "--events", type=int, default=5000, help="events in the outbox (default 5000)")
    parser.add_argument("--batch-size", type=int, default=100, help="the relay's batch (default 100)")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each checkout (default 3)")
    parser.add_argument("--against", metavar="REV", help="also run a worktree of this commit, interleaved")
    parser.add_argument("--wait-idle", type=float, default=30, help="seconds to wait for a calm machine")
    parser.add_argument("--admin-url", default=ADMIN_URL, help="PostgreSQL to create the run's database on")
    parser.add_argument("--root", help=argparse.SUPPRESS)  # a single run: the checkout it takes its code from
    parser.add_argument("--out", help=argparse.SUPPRESS)  # a single run: where its figures go
    return parser.parse_args(argv)


def single(args) -> dict:
    """One run in this process, on the code of --root."""
    sys.path.insert(0, str(Path(args.root).resolve()))  # `services` from there; `bench` stays this one
    name = f"mall_bench_relay_{os.getpid()}"
    url, amqp_url = database_url(args.admin_url, name), f"{AMQP_BASE}/{name}"
    create_database(args.admin_url, name)
    rabbitmqctl("add_vhost", name)
    try:
        rabbitmqctl("set_permissions", "-p", name, "guest", ".*", ".*", ".*")
        prepare(url, amqp_url, args.events)
        figures = drain(url, amqp_url, name, args.batch_size, args.events)
        queued = in_queue(amqp_url)
        if queued != args.events:  # at least once: more would be duplicates, fewer a loss
            raise RuntimeError(f"{queued} messages reached the queue for {args.events} events")
        return figures
    finally:
        with contextlib.suppress(Exception):
            rabbitmqctl("delete_vhost", name)
        drop_database(args.admin_url, name)


def prepare(url: str, amqp_url: str, events: int) -> None:
    """Intake's schema, a queue that takes every event, and the backlog."""
    from kombu import Connection, Queue

    from services.common.bus.topology import EVENTS_EXCHANGE
    from services.common.migrations import apply_migrations

    apply_migrations(url, ["intake"])
    with Connection(amqp_url) as connection:
        Queue("bench.relay", EVENTS_EXCHANGE, routing_key="#", durable=True)(
            connection.default_channel
        ).declare()
    payload = {"number": "TS-20261122-0001", "description": "空调漏水，地面湿滑。" * 20, "floor": "3F"}
    rows = [(str(uuid.uuid4()), envelope(payload)) for _ in range(events)]
    with psycopg.connect(url) as conn, conn.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO intake.outbox (id, routing_key, envelope) VALUES (%s, 'complaint.received', %s)",
            [(event_id, json.dumps({**body, "id": event_id})) for event_id, body in rows],
        )


def in_queue(amqp_url: str) -> int:
    from kombu import Connection

    with Connection(amqp_url) as connection:
        return connection.default_channel.queue_declare("bench.relay", passive=True).message_count


def envelope(payload: dict) -> dict:
    return {
        "type": "complaint.received",
        "occurred_at": "2026-11-22T02:00:00+00:00",
        "complaint_id": str(uuid.uuid4()),
        "mall_id": "demo",
        "actor": {"id": "desk", "role": "service_desk"},
        "correlation_id": str(uuid.uuid4()),
        "payload": payload,
        "schema_version": 1,
    }


def drain(url: str, amqp_url: str, database: str, batch_size: int, events: int) -> dict:
    """Start the relay and time it until the outbox is empty."""
    from services.common.bus.outbox import OutboxRelay
    from services.common.db import create_pool

    pool = create_pool(url, 1, 2, name="bench-relay")
    pool.open(wait=True)
    relay = OutboxRelay(pool, "intake", amqp_url, batch_size=batch_size, idle_wait=0.05)
    thread_id: list[int] = []

    def run() -> None:
        thread_id.append(threading.get_native_id())
        relay.run()

    procs, own, busy, began = _processes(), _own_cpu(), _machine_busy(), time.perf_counter()
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    with pool.connection() as conn:
        while conn.execute("SELECT 1 FROM intake.outbox WHERE published_at IS NULL LIMIT 1").fetchone():
            time.sleep(0.01)
    elapsed = time.perf_counter() - began
    relay_thread, own_cpu, machine_cpu, after = (
        _thread_cpu(thread_id[0]),
        _own_cpu(),
        _machine_busy() - busy,
        _processes(),
    )
    relay.stop()
    thread.join(10)
    pool.close()
    rabbitmq = _cpu_of(procs, after, lambda pid, name: name == "beam.smp")
    postgresql = _cpu_of(
        procs, after, lambda pid, name: name == "postgres" and _postgres_is_ours(pid, database)
    )
    process = own_cpu - own
    others = machine_cpu - process - rabbitmq - postgresql
    per_event = 1000 / events
    return {
        "events_per_s": events / elapsed,
        "relay_thread_ms": relay_thread * per_event,
        "relay_process_ms": process * per_event,
        "rabbitmq_ms": rabbitmq * per_event,
        "postgresql_ms": postgresql * per_event,
        "others_pct": 100 * max(others, 0) / (elapsed * (os.cpu_count() or 1)),
    }


def _thread_cpu(native_id: int) -> float:
    """CPU seconds of one thread of this process, from /proc."""
    fields = Path(f"/proc/self/task/{native_id}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def _cpu_of(before: dict, after: dict, chosen) -> float:
    return sum(
        cpu - before.get(pid, (0, "", 0.0))[2] for pid, (_, name, cpu) in after.items() if chosen(pid, name)
    )


def child(args, root: Path, label: str) -> dict:
    """One run in a process of its own, on the code of `root`."""
    wait_idle(args.wait_idle, announce=True)
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        command = [sys.executable, "-m", "bench.relay", "--root", str(root), "--out", out.name]
        command += [
            "-n",
            str(args.events),
            "--batch-size",
            str(args.batch_size),
            "--admin-url",
            args.admin_url,
        ]
        subprocess.run(command, cwd=ROOT, check=True)
        figures = json.loads(Path(out.name).read_text(encoding="utf-8"))
    print(f"{label:>8}  " + "  ".join(f"{key} {figures[key]:.2f}" for key in FIGURES), flush=True)
    return figures


@contextlib.contextmanager
def worktree(rev: str):
    folder = Path(tempfile.mkdtemp(prefix="mall_relay_rev_")) / "tree"
    subprocess.run(
        ["git", "worktree", "add", "--detach", str(folder), rev], cwd=ROOT, check=True, capture_output=True
    )
    try:
        yield folder
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(folder)], cwd=ROOT, capture_output=True)
        with contextlib.suppress(OSError):
            folder.parent.rmdir()


def run(args) -> int:
    if args.out:
        Path(args.out).write_text(json.dumps(single(args)), encoding="utf-8")
        return 0
    print(
        json.dumps(machine(events=str(args.events), batch=str(args.batch_size)), ensure_ascii=False),
        flush=True,
    )
    runs: dict[str, list[dict]] = {"this": [], "against": []}
    with worktree(args.against) if args.against else contextlib.nullcontext() as other:
        for _ in range(args.rounds):
            runs["this"].append(child(args, ROOT, "this"))
            if other is not None:
                runs["against"].append(child(args, other, args.against))
    for label, figures in runs.items():
        if figures:
            medians = {key: round(statistics.median(run[key] for run in figures), 3) for key in FIGURES}
            print(f"median {label if label == 'this' else args.against}: {json.dumps(medians)}", flush=True)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(run_until_stopped(run, parse(), show_traceback=True))
