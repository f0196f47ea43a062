"""Notify throughput: e-mail messages/s delivered to a local SMTP server by N delivery workers.

    .venv/bin/python bench/notify.py                       # about a minute on 2 cores
    .venv/bin/python bench/notify.py --messages 3000 --workers 1,2,4,8 --wait-idle 60

1. A database of the run's own (`mall_bench_notify_<pid>`, migrated, removed at the end, also on
   Ctrl+C or an error) and an SMTP server (aiosmtpd, in a process of its own on 127.0.0.1) that
   accepts every message and counts them.
2. Planning: M complaint.received and M notification.requested (`acknowledgement` to a customer
   who prefers e-mail, each at an address of its own) applied through notify's consumer as the
   broker delivers them (inbox, one transaction each): deliveries planned per second, templates
   rendered included.
3. Delivery: for each N, the M deliveries are set back to pending and N DeliveryWorker threads (as
   NOTIFY_WORKERS runs them: one process, an SMTP connection each) send them; messages/s from the
   start to the last row recorded `sent`. The server's count is checked against M. Quiet hours
   are off; the rate limit is on (each address gets one message).
4. Baseline: one smtplib connection sending M ready-made messages, no database: what the local
   SMTP server takes at most.

CPU per message is split between this process (the workers), the SMTP server and PostgreSQL.
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing
import os
import signal
import smtplib
import sys
import threading
import time
import uuid
from dataclasses import replace

from bench.common import (
    Interrupted,
    _machine_busy,
    _on_signal,
    _own_cpu,
    _postgres_is_ours,
    _processes,
    create_database,
    database_url,
    drop_database,
    machine,
    postgres_facts,
    wait_idle,
)
from services.common.migrations import apply_migrations
from services.common.settings import load_settings
from services.notify.adapters.channels.email import as_smtp_bytes, build_email
from services.notify.adapters.deliveries import Delivery
from services.notify.bootstrap import bootstrap
from services.notify.service_layer.worker import outgoing
from tests.integration.notify.conftest import complaint_received, requested

ADMIN_URL = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def smtp_server(port: int, count, ready) -> None:
    """The SMTP server process: accepts everything, counts messages."""
    from aiosmtpd.controller import Controller

    class Counting:
        async def handle_DATA(self, server, session, envelope):
            with count.get_lock():
                count.value += 1
            return "250 2.0.0 Ok: queued"

    controller = Controller(Counting(), hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    signal.sigwait({signal.SIGTERM})
    controller.stop()


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def plan(notify, messages: int) -> float:
    """Apply M complaints and their acknowledgement requests through the consumer; planned/s."""
    consumer = notify.consumer()
    envelopes = []
    for index in range(messages):
        number = f"TS-20261122-{index + 1:04d}"
        email = {"email": f"customer{index}@bench.example", "preferred_reply_channel": "email"}
        received = complaint_received(str(uuid.uuid4()), number, customer=email)
        envelopes += [received, requested(received.complaint_id, number=number)]
    began = time.perf_counter()
    for envelope in envelopes:
        consumer.apply(envelope, consumer.handlers[envelope.type])
    return messages / (time.perf_counter() - began)


def reset(notify) -> None:
    with notify.uow() as uow:
        uow.conn.execute("DELETE FROM notify.attempts")
        uow.conn.execute("DELETE FROM notify.outbox")
        uow.conn.execute(
            "UPDATE notify.deliveries SET state = 'pending', attempts = 0, next_attempt_at = now(),"
            " claimed_at = NULL, sent_at = NULL, provider_answer = NULL"
        )


def sent(notify) -> int:
    with notify.uow() as uow:
        return uow.conn.execute(
            "SELECT count(*) AS n FROM notify.deliveries WHERE state = 'sent'"
        ).fetchone()["n"]


def deliver(notify, workers: int, messages: int, database: str, server_pid: int, count) -> dict:
    """N worker threads until every delivery is sent; messages/s and CPU ms per message."""
    reset(notify)
    with count.get_lock():
        count.value = 0
    running = [notify.worker() for _ in range(workers)]
    for worker in running:
        worker.interval = 0.05
    procs, own, busy, began = _processes(), _own_cpu(), _machine_busy(), time.perf_counter()
    threads = [threading.Thread(target=worker.run, daemon=True) for worker in running]
    for thread in threads:
        thread.start()
    while sent(notify) < messages:
        time.sleep(0.02)
    elapsed = time.perf_counter() - began
    own_cpu, machine_cpu = _own_cpu() - own, _machine_busy() - busy
    after = _processes()
    for worker in running:
        worker.stop()
    for thread in threads:
        thread.join(10)
    server_cpu = after.get(server_pid, (0, "", 0.0))[2] - procs.get(server_pid, (0, "", 0.0))[2]
    pg_cpu = sum(
        cpu - procs.get(pid, (0, "", 0.0))[2]
        for pid, (_, name, cpu) in after.items()
        if name == "postgres" and _postgres_is_ours(pid, database)
    )
    return {
        "workers": workers,
        "per_second": messages / elapsed,
        "received": count.value,
        "ms_workers": 1000 * own_cpu / messages,
        "ms_smtp": 1000 * server_cpu / messages,
        "ms_pg": 1000 * pg_cpu / messages,
        "others": 100
        * max(0.0, machine_cpu - own_cpu - server_cpu - pg_cpu)
        / (elapsed * (os.cpu_count() or 1)),
    }


def baseline(notify, port: int, messages: int) -> float:
    """One smtplib connection sending ready-made messages: the SMTP server's own ceiling."""
    with notify.uow() as uow:
        rows = uow.conn.execute("SELECT * FROM notify.deliveries LIMIT 500").fetchall()
    emails = [
        as_smtp_bytes(build_email(outgoing(Delivery.of(row)), "bench@localhost", "bench")) for row in rows
    ]
    began = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port) as smtp:
        for index in range(messages):
            smtp.sendmail("bench@localhost", [f"customer{index}@bench.example"], emails[index % len(emails)])
    return messages / (time.perf_counter() - began)


def run(args: argparse.Namespace) -> None:
    name = f"mall_bench_notify_{os.getpid()}"
    count, ready = multiprocessing.Value("i", 0), multiprocessing.Event()
    port = free_port()
    with contextlib.ExitStack() as cleanup:
        create_database(args.admin_url, name)
        cleanup.callback(drop_database, args.admin_url, name)
        url = database_url(args.admin_url, name)
        apply_migrations(url, ["identity", "notify"])
        server = multiprocessing.Process(target=smtp_server, args=(port, count, ready), daemon=True)
        server.start()
        cleanup.callback(lambda: (os.kill(server.pid, signal.SIGTERM), server.join(10)))
        ready.wait(30)
        settings = load_settings(
            {},
            database_url=url,
            amqp_url="memory://",
            auth_secret="b" * 40,
            smtp_url=f"smtp://127.0.0.1:{port}",
            db_pool_max=max(args.workers) + 2,
        )
        settings = replace(settings, notify=replace(settings.notify, quiet_hours=""))
        notify = bootstrap(settings)
        notify.pool.open(wait=True, timeout=30)
        cleanup.callback(notify.pool.close)
        facts = {**machine(), **postgres_facts(url, ("server_version", "synchronous_commit"))}
        print("machine: " + ", ".join(f"{key} {value}" for key, value in facts.items()), flush=True)
        print(f"\nplanning {args.messages} acknowledgements through the consumer ...", flush=True)
        planned = plan(notify, args.messages)
        rows = []
        for workers in args.workers:
            if args.wait_idle:
                wait_idle(args.wait_idle, announce=True)
            print(f"delivering with {workers} worker thread(s) ...", flush=True)
            rows.append(deliver(notify, workers, args.messages, name, server.pid, count))
        ceiling = baseline(notify, port, args.messages)
    report(args, planned, rows, ceiling)


def report(args: argparse.Namespace, planned: float, rows: list[dict], ceiling: float) -> None:
    print(f"\nnotify, {args.messages} e-mail acknowledgements to a local aiosmtpd (own process)")
    print(f"  planned (consumer: inbox + contacts + render + delivery row)   {planned:8.0f} deliveries/s")
    print("\n  workers  messages/s  received  CPU ms/message: workers  smtp server  postgres  others' share")
    for row in rows:
        print(
            f"  {row['workers']:7d}  {row['per_second']:10.0f}  {row['received']:8d}"
            f"  {row['ms_workers']:23.2f}  {row['ms_smtp']:11.2f}  {row['ms_pg']:8.2f}  {row['others']:12.0f}%"
        )
    print(
        "  (others' share: the machine's CPU used by other processes meanwhile; trust rows where it is near 0)"
    )
    print(f"\n  baseline: smtplib alone, one connection, no database        {ceiling:8.0f} messages/s")
    lost = [row for row in rows if row["received"] != args.messages]
    if lost:
        print(
            f"  WARNING: the server counted {[row['received'] for row in lost]} messages, not {args.messages}"
        )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=2000, help="deliveries per level (default 2000)")
    parser.add_argument(
        "--workers",
        type=lambda text: [int(part) for part in text.split(",")],
        default=[1, 2, 4, 8],
        help="worker threads per level, e.g. 1,2,4,8",
    )
    parser.add_argument("--admin-url", default=ADMIN_URL, help="PostgreSQL to create the run's database on")
    parser.add_argument(
        "--wait-idle", type=float, default=0, help="wait up to this many s for an idle machine"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _on_signal)
    try:
        run(parse_args(argv))
    except (KeyboardInterrupt, Interrupted) as exc:
        print(f"stopped: {exc or 'Ctrl+C'}", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
