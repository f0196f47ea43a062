"""Intake throughput: POST /complaints under gunicorn against raw inserts, at rising concurrency.

    .venv/bin/python bench/intake.py                 # 10 s per level, levels 1 2 4 8 16
    .venv/bin/python bench/intake.py --seconds 5 --diagnose

One run creates a database of its own (dropped at the end, also on Ctrl+C or an error), migrates
and seeds it, starts intake under gunicorn on a free port of 127.0.0.1, drives POST /complaints
with wrk (installed with apt-get when missing and allowed; otherwise a Python multi-process
keep-alive client), then measures the raw baseline: Python threads, one psycopg connection each,
inserting the rows a recorded complaint writes (its complaints row and its outbox row), one commit
per complaint. No outbox relay runs, so the events pile up in intake.outbox; the run says how many.

--diagnose adds raw variants that add, one at a time, the other statements intake's transaction
runs (the day's receipt-number counter, NOTIFY, the reference check), to show what limits intake.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import sys
import tempfile
import threading
from pathlib import Path

from bench.common import (
    ADMIN_URL,
    POSTGRES_FACTS,
    _fmt,
    busy_share,
    drop_database,
    machine,
    postgres_facts,
    run_until_stopped,
    wait_idle,
)
from bench.intake_load import drive_python, drive_wrk, find_wrk
from bench.intake_raw import RAW_VARIANTS, drive_raw
from bench.intake_report import _progress, print_machine, report
from bench.intake_server import (
    DEFAULT_THREADS,
    DEFAULT_WORKER_CLASS,
    DEFAULT_WORKERS,
    MALL,
    SHARE_AT,
    CpuMeter,
    Gunicorn,
    Level,
    ServerConfig,
    connection_spread,
    count_rows,
    create_database,
)
from services.common.identity.model import Identity
from services.common.identity.tokens import TokenIssuer

# --------------------------------------------------------------------------- the run


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=10.0, help="per concurrency level (default 10)")
    parser.add_argument(
        "--levels", default="1,2,4,8,16", help="concurrency levels, comma-separated (default 1,2,4,8,16)"
    )
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of load before measuring")
    parser.add_argument("--workers", type=int, default=DEFAULT_WORKERS, help="gunicorn workers")
    parser.add_argument(
        "--worker-class",
        default=DEFAULT_WORKER_CLASS,
        choices=("sync", "gthread"),
        help="gunicorn worker class",
    )
    parser.add_argument("--threads", type=int, default=DEFAULT_THREADS, help="threads per gthread worker")
    parser.add_argument(
        "--pool-max", type=int, default=None, help="DB_POOL_MAX per worker (default: threads per worker)"
    )
    parser.add_argument(
        "--app",
        default="services.intake.wsgi:create_wsgi_app()",
        help="the WSGI app gunicorn runs (to try a variant; PYTHONPATH is passed on)",
    )
    parser.add_argument("--client", choices=("auto", "wrk", "python"), default="auto", help="load generator")
    parser.add_argument(
        "--wrk-threads", type=int, default=1, help="wrk threads (default 1: leave the CPUs to intake)"
    )
    parser.add_argument("--no-install", action="store_true", help="never apt-get install wrk")
    parser.add_argument("--skip-intake", action="store_true", help="only the raw baseline")
    parser.add_argument("--skip-raw", action="store_true", help="only intake")
    parser.add_argument("--diagnose", action="store_true", help="also the raw variants described above")
    parser.add_argument(
        "--admin-url",
        default=ADMIN_URL,
        help="a database to create and drop the benchmark database from (env BENCH_DATABASE_URL)",
    )
    parser.add_argument(
        "--wait-idle",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="before each level, wait up to this long for the machine to be idle, and measure a level"
        " again (up to 3 tries) when other processes took >10%% of the CPU (shared machines)",
    )
    parser.add_argument(
        "--pairs",
        type=int,
        default=0,
        metavar="N",
        help=f"also measure the share at {SHARE_AT} clients as N interleaved pairs (intake, then raw)"
        " and report their median: steadier than levels minutes apart on a virtual machine",
    )
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    args.levels = [int(x) for x in args.levels.split(",") if x.strip()]
    if args.worker_class == "sync":
        args.threads = 1  # gunicorn would otherwise switch a sync worker with threads to gthread
    if args.pool_max is None:
        args.pool_max = args.threads if args.worker_class == "gthread" else 1
    return args


def run(args: argparse.Namespace) -> int:
    admin_url = args.admin_url
    name = f"mall_bench_{os.getpid()}"
    secret = secrets.token_urlsafe(48)
    results: dict = {"machine": machine(), "levels": args.levels, "seconds": args.seconds}
    config = ServerConfig(args.workers, args.worker_class, args.threads, args.pool_max)
    intake_levels: list[Level] = []
    raw_levels: dict[str, dict[int, Level]] = {}

    with tempfile.TemporaryDirectory(prefix="bench-intake-") as tmp, contextlib.ExitStack() as cleanup:
        workdir = Path(tmp)
        print(f"creating database {name} ...", flush=True)
        cleanup.callback(drop_database, admin_url, name)
        cleanup.callback(lambda: print(f"dropping database {name}", flush=True))
        url = create_database(admin_url, name)
        results["postgres"] = postgres_facts(url, (*POSTGRES_FACTS, "max_connections"))
        results["idle_before"] = busy_share()
        print_machine(results)

        if not args.skip_intake:
            token = TokenIssuer(secret).issue(
                Identity(subject="bench", roles=frozenset({"service_desk"}), mall_id=MALL)
            )
            wrk = None if args.client == "python" else find_wrk(not args.no_install)
            if args.client == "wrk" and wrk is None:
                raise RuntimeError("wrk is not installed (apt-get install wrk)")
            client = "wrk" if wrk else "python"
            server = Gunicorn(config, args.app, url, secret, workdir / "gunicorn.log")
            cleanup.callback(server.stop)
            server.wait_ready()
            meter = CpuMeter(name, server.process.pid)
            results["server"] = config.describe()
            results["client"] = client

            def drive_once(clients: int, seconds: float) -> Level:
                spread: list[str] = []
                sampler = threading.Timer(
                    min(2.0, seconds / 2), lambda: spread.append(connection_spread(server.port))
                )
                meter.start()
                sampler.start()
                if wrk:
                    level = drive_wrk(wrk, server.port, token, clients, seconds, workdir, args.wrk_threads)
                else:
                    level = drive_python(server.port, token, clients, seconds)
                level.cpu = meter.stop()
                sampler.join()
                level.spread = spread[0] if spread else "?"
                return level

            def drive(clients: int, seconds: float) -> Level:
                return quiet_level(args.wait_idle, lambda: drive_once(clients, seconds))

            print(f"\nintake: gunicorn {config.describe()} on 127.0.0.1:{server.port}; load from {client}")
            print("  (no outbox relay runs under gunicorn: the events pile up in intake.outbox)")
            if args.warmup > 0:
                warm = drive(max(args.levels), args.warmup)
                if warm.errors:
                    print(f"warm-up: {warm.errors} errors; gunicorn log:\n{server.log_tail()}")
            for clients in args.levels:
                intake_levels.append(drive(clients, args.seconds))
                _progress("complaints", intake_levels[-1])
            if any(level.errors for level in intake_levels):
                print(f"gunicorn log (tail):\n{server.log_tail()}")
            if args.pairs:
                results["pairs"] = run_pairs(args, url, name, lambda: drive(SHARE_AT, args.seconds))
            server.stop()
            results["outbox_after_intake"] = count_rows(url)["outbox"]

        if not args.skip_raw:
            meter = CpuMeter(name)
            for variant in list(RAW_VARIANTS) if args.diagnose else ["rows"]:
                print(f"\nraw {variant}: {RAW_VARIANTS[variant]}", flush=True)
                raw_levels[variant] = {}
                for clients in args.levels:
                    raw_levels[variant][clients] = quiet_level(
                        args.wait_idle,
                        lambda n=clients, v=variant: drive_raw(url, v, n, args.seconds, meter),
                    )
                    _progress("commits", raw_levels[variant][clients])

        report(args, results, config, intake_levels, raw_levels)
    return 0


def run_pairs(args, url: str, database: str, drive_intake) -> list[dict]:
    """The share at 8 clients as N pairs, intake then raw a moment later, each pair's own ratio.

    On a virtual machine the CPU a request costs drifts by ±50% from minute to minute (neighbours on
    the host, invisible as steal time), so a ratio of two levels measured minutes apart says more
    about the host than about intake; one pair's two levels share the same minute.
    """
    meter = CpuMeter(database)
    pairs = []
    print(f"\n{args.pairs} pairs at {SHARE_AT} clients: intake, then the raw baseline", flush=True)
    for n in range(args.pairs):
        intake = drive_intake()
        raw = quiet_level(args.wait_idle, lambda: drive_raw(url, "rows", SHARE_AT, args.seconds, meter))
        share = 100 * intake.rate / raw.rate if raw.rate else 0.0
        per_op = intake.cpu.per_op_ms(intake.ok) if intake.cpu else None
        pairs.append(
            {
                "intake": intake.rate,
                "raw": raw.rate,
                "share": share,
                "intake_p99_ms": intake.p99_ms,
                "errors": intake.errors,
                "app_cpu_ms": per_op["app"] if per_op else None,
                "connections_per_worker": intake.spread,
            }
        )
        print(
            f"  pair {n + 1}: intake {intake.rate:7.1f}/s (p99 {_fmt(intake.p99_ms)} ms, {intake.errors} errors,"
            f" connections {intake.spread or '?'})  raw {raw.rate:7.1f}/s  share {share:4.0f}%",
            flush=True,
        )
    return pairs


def quiet_level(wait: float, measure, tries: int = 3, noisy: float = 10.0) -> Level:
    """Measure a level; with --wait-idle, first wait for an idle machine and measure again (at most
    `tries` times) while other processes took more than `noisy`% of it; keep the quietest try."""
    if not wait:
        return measure()
    best: Level | None = None
    for attempt in range(tries):
        wait_idle(wait)
        level = measure()
        if best is None or level.cpu.others_share < best.cpu.others_share:
            best = level
        if best.cpu.others_share <= noisy:
            break
        if attempt < tries - 1:
            print(f"  ({level.clients} clients: others took {level.cpu.others_share:.0f}% of the CPU: again)")
    return best


def main(argv: list[str] | None = None) -> int:
    return run_until_stopped(run, parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
