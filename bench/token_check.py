"""What checking a token's holder on every request costs (services/common/identity/revocation.py).

    .venv/bin/python bench/token_check.py                 # 3 rounds of 2,000 GETs per variant

Builds intake on a database of its own (created, migrated, seeded, dropped at the end), creates a
service-desk user and issues its token as the console does, then verifies that token as every
request does (`TokenIssuer.verify`, which `require_roles` calls), one call after another, in three
variants: `unchecked` (signature and expiry only, as before revocation), `kept` (the holder read
once and kept for TOKEN_CHECK_SECONDS, the default), `every` (TOKEN_CHECK_SECONDS=0: the holder
read on every request). It prints CPU and wall microseconds per verify and the holder reads per
verify (each a one-row SELECT on `identity.users`' unique index, in a transaction of its own), and
the same for `GET /complaints?limit=1` through the WSGI app, to set the check against a request.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import sys
import time
from dataclasses import replace
from datetime import timedelta

from werkzeug.test import Client

from bench.common import ADMIN_URL, drop_database, machine
from bench.intake_server import MALL, create_database
from services.common.identity import revocation
from services.common.identity.tokens import TokenIssuer
from services.common.identity.users import UserStore
from services.common.settings import load_settings
from services.intake.app import create_app
from services.intake.bootstrap import bootstrap

VARIANTS = ("unchecked", "kept", "every")


class Counted:
    """The holder reader of services, counting its reads."""

    def __init__(self, pool):
        self.read, self.reads = revocation.holders(pool), 0

    def __call__(self, mall_id: str, subject: str):
        self.reads += 1
        return self.read(mall_id, subject)


def issuers(runtime, secret: str, reads: Counted) -> dict[str, TokenIssuer]:
    checks = {"unchecked": None, "kept": runtime.settings.token_check, "every": timedelta(0)}
    return {
        variant: TokenIssuer(
            secret,
            runtime.clock,
            runtime.settings.token_ttl,
            None if check is None else revocation.CachedRevocations(reads, runtime.clock, check),
        )
        for variant, check in checks.items()
    }


def timed(call, times: int) -> tuple[float, float]:
    """CPU and wall microseconds per call."""
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(times):
        call()
    return 1e6 * (time.process_time() - cpu) / times, 1e6 * (time.perf_counter() - wall) / times


def get(client: Client, token: str):
    headers = {"Authorization": f"Bearer {token}"}

    def call() -> None:
        answer = client.get("/complaints?limit=1", headers=headers)
        if answer.status_code != 200:
            raise RuntimeError(
                f"GET /complaints answered {answer.status_code}: {answer.get_data(as_text=True)}"
            )

    return call


def run(runtime, secret: str, requests: int, rounds: int) -> None:
    reads = Counted(runtime.pool)
    token = runtime.tokens.issue(
        UserStore(runtime.pool).create(MALL, "bench.desk", ["service_desk"]).identity()
    )
    checked = issuers(runtime, secret, reads)
    calls = {
        "verify": {
            variant: (lambda issuer=issuer: issuer.verify(token)) for variant, issuer in checked.items()
        },
        "GET": {
            variant: get(Client(create_app(replace(runtime, tokens=issuer))), token)
            for variant, issuer in checked.items()
        },
    }
    for what, variants in calls.items():
        times = requests * (10 if what == "verify" else 1)
        for round_ in range(1, rounds + 1):
            for variant, call in variants.items():
                timed(call, times // 10)  # warm up
                before = reads.reads
                cpu, wall = timed(call, times)
                print(
                    f"{what:6} round {round_} {variant:9}: {cpu:8.1f} us CPU, {wall:8.1f} us wall,"
                    f" {(reads.reads - before) / times:.4f} holder reads per call",
                    flush=True,
                )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--requests", type=int, default=2000, help="GETs per variant and round (verifies: 10x)"
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--admin-url",
        default=ADMIN_URL,
    )
    args = parser.parse_args(argv)
    name = f"mall_bench_tokens_{os.getpid()}"
    m = machine()
    print(f"machine: {m['cpu']}, {m['cores']} cores, Python {m['python']}, {m['date']}", flush=True)
    with contextlib.ExitStack() as cleanup:
        cleanup.callback(drop_database, args.admin_url, name)
        secret = secrets.token_urlsafe(48)
        settings = load_settings(
            {},
            database_url=create_database(args.admin_url, name),
            auth_secret=secret,
            mall_id=MALL,
            amqp_url="memory://",
            db_pool_min=1,
            db_pool_max=2,
        )
        runtime = bootstrap(settings)
        runtime.pool.open(wait=True)
        cleanup.callback(runtime.pool.close)
        run(runtime, secret, args.requests, args.rounds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
