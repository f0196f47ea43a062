"""Intake's CPU per POST /complaints, in-process: the Python cost a WSGI server's worker pays.

    .venv/bin/python bench/intake_cpu.py                    # 3,000 POSTs after 300 to warm up
    .venv/bin/python bench/intake_cpu.py --profile 20       # + the 20 costliest functions (cProfile)

Builds intake exactly as gunicorn does (`services.intake.wsgi:create_wsgi_app()`, LOG_LEVEL=WARNING)
on a database of its own (created, migrated, seeded, dropped at the end), and calls the WSGI app
directly, one request after another, with the body and service-desk token of bench/intake.py. It
prints the process CPU time (`time.process_time`: user + system of every thread of this process)
per request, which stays meaningful on a busy shared machine where wall-clock rates do not. The
HTTP parsing of a real server is not included (gunicorn's is ~0.1 ms), nor PostgreSQL's own CPU.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import io
import json
import os
import pstats
import secrets
import sys
import time

from werkzeug.test import EnvironBuilder

from bench.common import ADMIN_URL, drop_database, machine
from bench.intake_server import BODY, MALL, create_database
from services.common.identity.model import Identity
from services.common.identity.tokens import TokenIssuer


def build_app(url: str, secret: str):
    os.environ.update(
        {
            "DATABASE_URL": url,
            "AUTH_SECRET": secret,
            "MALL_ID": MALL,
            "LOG_LEVEL": "WARNING",
            "MIGRATE_ON_START": "false",
            "DB_POOL_MIN": "1",
            "DB_POOL_MAX": "2",
        }
    )
    os.environ.pop("AMQP_URL", None)
    from services.intake.wsgi import create_wsgi_app

    return create_wsgi_app()


def poster(app, token: str):
    """A function making one POST /complaints through the WSGI interface; returns its status."""
    body = json.dumps(BODY, ensure_ascii=False).encode()
    template = EnvironBuilder(
        path="/complaints",
        method="POST",
        data=body,
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    ).get_environ()
    statuses: list[str] = []

    def start_response(status, headers, exc_info=None):
        statuses.append(status)

    def post() -> str:
        environ = dict(template, **{"wsgi.input": io.BytesIO(body)})
        result = app(environ, start_response)
        try:
            b"".join(result)
        finally:
            if hasattr(result, "close"):
                result.close()
        return statuses.pop()

    return post


def measure(post, requests: int) -> tuple[float, float]:
    """CPU ms and wall ms per request over `requests` POSTs; stops at the first non-201."""
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(requests):
        status = post()
        if not status.startswith("201"):
            raise RuntimeError(f"POST /complaints answered {status}")
    return (
        1000 * (time.process_time() - cpu) / requests,
        1000 * (time.perf_counter() - wall) / requests,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=3000, help="measured POSTs (default 3000)")
    parser.add_argument("--warmup", type=int, default=300, help="POSTs before measuring (default 300)")
    parser.add_argument("--rounds", type=int, default=3, help="measure this many times, print each")
    parser.add_argument("--profile", type=int, metavar="N", default=0, help="also cProfile; print top N")
    parser.add_argument(
        "--admin-url",
        default=ADMIN_URL,
    )
    args = parser.parse_args(argv)
    name = f"mall_bench_cpu_{os.getpid()}"
    secret = secrets.token_urlsafe(48)
    token = TokenIssuer(secret).issue(
        Identity(subject="bench", roles=frozenset({"service_desk"}), mall_id=MALL)
    )
    m = machine()
    print(f"machine: {m['cpu']}, {m['cores']} cores, Python {m['python']}, {m['date']}", flush=True)
    with contextlib.ExitStack() as cleanup:
        cleanup.callback(drop_database, args.admin_url, name)
        url = create_database(args.admin_url, name)
        app = build_app(url, secret)
        cleanup.callback(app.extensions["intake.uow"].__self__.pool.close)  # the Intake of Intake.uow
        post = poster(app, token)
        measure(post, args.warmup)
        results = []
        for round_ in range(1, args.rounds + 1):
            cpu, wall = measure(post, args.requests)
            results.append(cpu)
            print(f"round {round_}: {cpu:.3f} ms CPU, {wall:.3f} ms wall per POST ({args.requests} POSTs)")
        print(f"best: {min(results):.3f} ms CPU per POST")
        if args.profile:
            profiler = cProfile.Profile(time.process_time)  # CPU, not waiting on PostgreSQL
            profiler.runcall(measure, post, args.requests)
            stats = pstats.Stats(profiler, stream=sys.stdout).strip_dirs()
            stats.sort_stats("tottime").print_stats(args.profile)
            stats.sort_stats("cumulative").print_stats(args.profile * 2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
