"""Routing throughput: the bare engine, the service from RabbitMQ to PostgreSQL, looping cases, timer lag.

    .venv/bin/python bench/routing.py                    # under a minute on 2 cores, plus --wait-idle
    .venv/bin/python bench/routing.py --cases 1000 --workers 1,2 --loops 1,5,20,50

(a) engine: SpiffWorkflow alone through `services.routing.engine` (parse_diagram + Engine on the
    real Clock), in memory, on tests/data/routing/complaint_v1.bpmn + triage_v1.dmn: cases/s from
    start to the first user task, and cases/s through the happy path (handle_floor resolved ->
    reply -> wait_callback fired by moving a MovableClock -> callback satisfied -> completed).
    Two reference rows show what serialization adds: the first task plus one dump, and the happy
    path restored and dumped around every step as the service does. Then the same engine on the
    diagram the mall runs, bpmn/complaint.bpmn + triage.dmn (the mall's time zone in the policy, as
    routing adds it): cases/s to the first tasks and through a merchant complaint's whole life, and
    how many times slower than on the test diagram.
(b) service: `python -m services worker routing` processes (1, then 2) on a database and a RabbitMQ
    vhost of the run's own. complaint.received envelopes (as tests/integration/routing/conftest.py
    builds them) are published to `mall.events` with publisher confirms, as the outbox relay does;
    cases/s is counted from the first publish to the moment the last case's first task row is
    committed (seen by polling routing.tasks). Then every open handle_floor task is completed through
    the service layer (`routing.bus.handle(CompleteTask(...))`) by as many
    driver processes as there are workers, each with --threads threads, while the workers relay
    the events. CPU per case is split between the workers, PostgreSQL, RabbitMQ and this process.
(c) the service's first-task rate as a share of the bare engine's (target >= 40%).
(d) one case looped N times (callback not satisfied -> handle_ops -> reply -> timer -> callback),
    in-process through the service layer with a MovableClock: ms per step (load + advance + save,
    one transaction, split into engine restore / engine action / engine dump / the rest: SQL, JSON,
    task mirroring, commit) and the size of routing.cases.state (JSON text and as stored).
(e) timer lag on the real clock: cases started with handler_acts_within_seconds=2 in the envelope's
    policy; the lag is from the boundary timer's due time (handle_floor's due_at) to handle_ops'
    task row (its created_at, and when this process first saw it committed). Target p99 <= 1 s.

One run creates its database (migrated with `python -m services migrate`, the diagram deployed with
`python -m services deploy`) and its vhost, and removes both at the end, also on Ctrl+C or an error;
every process it starts is stopped. Only 127.0.0.1 is used.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psycopg

from bench.common import (
    ADMIN_URL,
    AMQP_BASE,
    _fmt,
    _percentile,
    busy_share,
    create_database,
    database_url,
    drop_database,
    postgres_facts,
    run_until_stopped,
    wait_idle,
)
from bench.routing_engine import EngineResult, bench_engine, bench_shipped
from bench.routing_loops import Breakdown, LoopRow, bench_loops, diagnose
from bench.routing_report import print_breakdown, print_machine, report
from bench.routing_service import (
    Completions,
    Starts,
    TimerLag,
    measure_completions,
    measure_starts,
    measure_timer_lag,
    single_latency,
    warm_up,
)
from bench.routing_support import (
    BPMN,
    DIAGRAMS,
    DMN,
    MALL,
    CpuMeter,
    Publisher,
    Workers,
    clear_cases,
    cli,
    create_vhost,
    delete_vhost,
    machine,
)
from services.routing.bootstrap import COMPLAINTS_QUEUE

# --------------------------------------------------------------------------- the run


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--engine-cases", type=int, default=600, help="(a) cases to the first task")
    parser.add_argument("--engine-happy", type=int, default=300, help="(a) cases through the happy path")
    parser.add_argument("--cases", type=int, default=1000, help="(b) cases published per worker count")
    parser.add_argument("--workers", default="1,2", help="(b, e) worker process counts (default 1,2)")
    parser.add_argument("--threads", type=int, default=4, help="(b) threads per completion driver")
    parser.add_argument("--single", type=int, default=20, help="(b) cases timed one at a time")
    parser.add_argument("--loops", default="1,5,20", help="(d) reopen counts to report (default 1,5,20)")
    parser.add_argument("--loop-cases", type=int, default=2, help="(d) cases looped")
    parser.add_argument("--timer-cases", type=int, default=100, help="(e) cases per worker count")
    parser.add_argument("--timer-rate", type=float, default=25.0, help="(e) cases started per second")
    parser.add_argument("--timer-due", type=int, default=2, help="(e) handler_acts_within_seconds")
    parser.add_argument("--skip-engine", action="store_true")
    parser.add_argument("--skip-service", action="store_true")
    parser.add_argument("--skip-loops", action="store_true")
    parser.add_argument("--skip-timers", action="store_true")
    parser.add_argument(
        "--diagnose",
        type=int,
        nargs="?",
        const=200,
        default=0,
        metavar="CASES",
        help="also time start_case and complete_task in this process, one at a time, per SQL statement"
        " and engine phase (default 200 cases)",
    )
    parser.add_argument(
        "--admin-url",
        default=ADMIN_URL,
        help="a database to create and drop the benchmark database from (env BENCH_DATABASE_URL)",
    )
    parser.add_argument(
        "--amqp-base",
        default=AMQP_BASE,
        help="RabbitMQ without a vhost (env BENCH_AMQP_URL); the run adds a vhost of its own",
    )
    parser.add_argument(
        "--wait-idle",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="first wait up to this long for the machine to be idle (default 60)",
    )
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    args.workers = [int(x) for x in args.workers.split(",") if x.strip()]
    args.loops = sorted({int(x) for x in args.loops.split(",") if x.strip()})
    return args


def run(args: argparse.Namespace) -> int:
    results: dict[str, Any] = {"machine": machine()}
    name = f"mall_bench_routing_{os.getpid()}"
    vhost = f"bench_routing_{os.getpid()}"
    secret = secrets.token_urlsafe(48)
    engine: EngineResult | None = None
    starts: list[Starts] = []
    completions: list[Completions] = []
    lags: list[TimerLag] = []
    loops: list[LoopRow] = []
    breakdowns: list[Breakdown] = []
    notes: list[str] = []

    results["busy_before"] = (
        wait_idle(args.wait_idle, sample=2.0, announce=True) if args.wait_idle > 0 else busy_share(1.0)
    )
    results["load_before"] = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="bench-routing-") as tmp, contextlib.ExitStack() as cleanup:
        drivers: list = []
        cleanup.callback(lambda: [p.kill() for p in drivers if p.is_alive()])
        needs_db = not (args.skip_service and args.skip_loops) or bool(args.diagnose)
        url = database_url(args.admin_url, name)
        amqp_url = f"{args.amqp_base.rstrip('/')}/{vhost}"
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("POLICY_", "DB_POOL"))},
            "DATABASE_URL": url,
            "AMQP_URL": amqp_url,
            "AUTH_SECRET": secret,
            "MALL_ID": MALL,
            "LOG_LEVEL": "WARNING",
            "MIGRATE_ON_START": "false",
        }
        if needs_db:
            print(f"creating database {name}, migrating, deploying {BPMN} ...", flush=True)
            cleanup.callback(drop_database, args.admin_url, name)
            cleanup.callback(lambda: print(f"dropping database {name}", flush=True))
            create_database(args.admin_url, name)
            cli(env, "migrate")
            print("  " + cli(env, "deploy", str(DIAGRAMS / BPMN), str(DIAGRAMS / DMN)), flush=True)
            results["postgres"] = postgres_facts(url)
        if not args.skip_service:
            print(f"creating RabbitMQ vhost {vhost} ...", flush=True)
            cleanup.callback(delete_vhost, vhost)
            cleanup.callback(lambda: print(f"deleting vhost {vhost}", flush=True))
            create_vhost(vhost)
        print_machine(results, None)

        if not args.skip_engine:
            print("\n(a) the bare engine, in memory ...", flush=True)
            engine = bench_engine(args.engine_cases, args.engine_happy)
            bench_shipped(engine, max(1, args.engine_cases // 4), max(1, args.engine_happy // 4))
            print(
                f"  first task {engine.first_task:.0f} cases/s, happy path {engine.happy:.0f} cases/s",
                flush=True,
            )

        if not args.skip_service:
            publisher = Publisher(amqp_url)
            cleanup.callback(publisher.close)
            results["rabbitmq"] = publisher.server_version()
            with psycopg.connect(url, autocommit=True) as conn:
                for count in args.workers:
                    clear_cases(url)
                    print(f"\n(b) service with {count} worker process(es) ...", flush=True)
                    workers = Workers(count, env, Path(tmp))
                    cleanup.callback(workers.stop)
                    deadline = time.monotonic() + 60
                    while publisher.queue_state(COMPLAINTS_QUEUE)[1] < count:
                        workers.check()
                        if time.monotonic() > deadline:
                            raise RuntimeError("the workers did not start consuming within 60 s")
                        time.sleep(0.2)
                    warm_up(publisher, conn, count)
                    single = [x * 1000 for x in single_latency(publisher, conn, args.single)]
                    meter = CpuMeter(name, workers.pids)
                    started = measure_starts(publisher, conn, args.cases, count, meter)
                    started.single_p50_ms = _percentile(single, 0.5)
                    started.single_p99_ms = _percentile(single, 0.99)
                    starts.append(started)
                    print(
                        f"  starts: {started.rate:.1f} cases/s ({started.missing} missing);"
                        f" {started.cpu.describe(args.cases) if started.cpu else ''}",
                        flush=True,
                    )
                    done = measure_completions(url, secret, conn, count, args.threads, meter, drivers)
                    completions.append(done)
                    print(
                        f"  completions: {done.rate:.1f} tasks/s ({done.errors} errors);"
                        f" {done.cpu.describe(done.ok) if done.cpu else ''}",
                        flush=True,
                    )
                    if done.first_errors:
                        print("  first errors: " + " | ".join(done.first_errors), flush=True)
                    if not args.skip_timers:
                        lag = measure_timer_lag(
                            publisher, conn, count, args.timer_cases, args.timer_rate, args.timer_due
                        )
                        lags.append(lag)
                        print(
                            f"  timer lag: p50 {_fmt(lag.p50_s, 3)} s, p99 {_fmt(lag.p99_s, 3)} s"
                            f" ({lag.fired}/{lag.cases} fired)",
                            flush=True,
                        )
                    dead = publisher.queue_state(f"{COMPLAINTS_QUEUE}.dead")[0]
                    if dead:
                        notes.append(f"{dead} message(s) dead-lettered with {count} worker(s)")
                    workers.stop()
                    problems = workers.problems()
                    if problems:
                        notes.append(
                            f"workers ({count}) logged {len(problems)} warning/error line(s), first: "
                            + problems[0]
                        )

        if not args.skip_loops:
            print("\n(d) looping cases, in-process with a MovableClock ...", flush=True)
            clear_cases(url)
            loops = bench_loops(url, secret, args.loops, args.loop_cases)

        if args.diagnose and needs_db:
            print("\n--diagnose: start_case and complete_task in this process, one at a time ...", flush=True)
            clear_cases(url)
            breakdowns = diagnose(url, secret, args.diagnose)

        report(results, engine, starts, completions, lags, loops, notes, args)
        for breakdown in breakdowns:
            print_breakdown(breakdown)
        if args.json:
            results.update(
                engine=vars(engine) if engine else None,
                starts=[vars(x) | {"rate": x.rate, "cpu": vars(x.cpu) if x.cpu else None} for x in starts],
                completions=[
                    vars(x) | {"rate": x.rate, "cpu": vars(x.cpu) if x.cpu else None} for x in completions
                ],
                timer_lag=[vars(x) for x in lags],
                loops=[vars(x) for x in loops],
                diagnose=[vars(x) for x in breakdowns],
                notes=notes,
            )
            args.json.write_text(json.dumps(results, indent=2, default=str))
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # also when started with SIGINT ignored
    return run_until_stopped(run, args, show_traceback=True)


if __name__ == "__main__":
    sys.exit(main())
