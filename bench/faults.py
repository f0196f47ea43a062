"""The long fault runs: RabbitMQ away for 30 s during a burst, PostgreSQL restarted during one, a
routing worker SIGKILLed again and again; after each, the books audit (`python -m services audit`).

    .venv/bin/python bench/faults.py                                 # ~3 min: the three, 30 s outages
    .venv/bin/python bench/faults.py --outage 5 --rate 10 --scenarios rabbitmq,postgres
    .venv/bin/python bench/faults.py --real                          # the real servers (see README)

The deployment is tests/support/deployment.py's: every long-running service of deploy/compose.yaml
that the complaint path needs (intake's API and worker, routing's, notify's and reporting's workers)
as its own process, on a database and a RabbitMQ vhost of the run's own, mailing a local aiosmtpd.
The servers are the test suite's: TEST_DATABASE_URL, TEST_AMQP_URL and TEST_RABBITMQ_NODE (defaults:
the local PostgreSQL and RabbitMQ; tests/support/servers.py). By default the processes reach them
through TCP proxies that are cut for the outage (the servers themselves keep running, for everyone
else on the machine). With `--real` they
connect to the servers directly and the run stops them: `rabbitmqctl stop_app` / `start_app`, and
`pg_ctlcluster --skip-systemctl-redirect <version> main restart` — only on a machine of your own.

Complaints are POSTed at `--rate` per second from before the fault until after it, each with an
Idempotency-Key; a client told 503 (or given no answer) tries again a second later with the same
key, as the web form does. Per scenario it prints what the clients saw, how far intake's outbox
grew, how long the system took to settle, and the audit's summary. Exit 0 when every audit is clean.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import requests

from bench.common import create_database, drop_database, machine
from services.audit.command import run_audit, summary
from services.audit.model import AuditReport
from tests.integration.conftest import complaint
from tests.support.deployment import Deployment
from tests.support.mailserver import MailServer
from tests.support.servers import (
    ADMIN_URL,
    AMQP_BASE,
    add_vhost,
    delete_vhost,
    host_port,
    proxied,
    rabbitmqctl,
)
from tests.support.tcp_proxy import TcpProxy

RUNNING = ["intake", "intake-worker", "routing-worker", "notify-worker", "reporting-worker"]
SCENARIOS = ("rabbitmq", "postgres", "routing-kill")


@dataclass
class Answers:
    first: Counter = field(default_factory=Counter)  # status of each complaint's first answer
    tries: int = 0
    numbers: list[str] = field(default_factory=list)
    lost: int = 0  # never answered 201, even after retrying for two minutes
    lock: threading.Lock = field(default_factory=threading.Lock)


class Run:
    def __init__(self, args, folder: Path):
        self.args = args
        self.name = f"mall_bench_faults_{uuid.uuid4().hex[:8]}"
        self.database_url = f"{ADMIN_URL.rsplit('/', 1)[0]}/{self.name}"
        self.amqp_url = f"{AMQP_BASE}/{self.name}"
        self.postgres = TcpProxy(*host_port(ADMIN_URL))
        self.rabbitmq = TcpProxy(*host_port(AMQP_BASE))
        self.mail = MailServer().start()
        db, mq = self.database_url, self.amqp_url
        if not args.real:
            db, mq = proxied(db, self.postgres.port), proxied(mq, self.rabbitmq.port)
        self.deployment = Deployment(
            folder, db, mq, SMTP_URL=f"smtp://127.0.0.1:{self.mail.port}", NOTIFY_QUIET_HOURS="none"
        )
        self.serial = 0

    def set_up(self) -> None:
        create_database(ADMIN_URL, self.name)
        add_vhost(self.name, timeout=120)
        self.postgres.up()
        self.rabbitmq.up()
        for job in ("migrate", "deploy-diagram"):
            done = self.deployment.job(job)
            if done.returncode != 0:
                raise SystemExit(f"{job} failed: {done.stderr}")
        self.deployment.cli("seed")
        self.deployment.cli("user", "create", "desk", "--role", "service_desk")
        self.desk = self.deployment.bearer("desk")
        for name in RUNNING:
            self.deployment.start(name)
        for name in RUNNING:
            self.deployment.wait_ready(name)

    def tear_down(self) -> None:
        self.deployment.kill_leftovers()
        self.postgres.down()
        self.rabbitmq.down()
        self.mail.stop()
        drop_database(ADMIN_URL, self.name)
        delete_vhost(self.name, timeout=120)

    # ------------------------------------------------------------------ the clients

    def post_until_recorded(self, answers: Answers) -> None:
        with answers.lock:
            self.serial += 1
            n = self.serial
        body = complaint(
            customer={
                "name": "顾客",
                "email": f"bench-{self.name}-{n}@example.com",
                "phone": f"1361{n:07d}",
                "preferred_reply_channel": "email",
            }
        )
        key = f"bench-{uuid.uuid4().hex}"
        deadline = time.monotonic() + 120
        first = True
        while time.monotonic() < deadline:
            status, number = self.post(body, key)
            with answers.lock:
                answers.tries += 1
                if first:
                    answers.first[status] += 1
                if status == 201:
                    answers.numbers.append(number)
                    return
            first = False
            time.sleep(1)
        with answers.lock:
            answers.lost += 1

    def post(self, body: dict, key: str) -> tuple[str | int, str | None]:
        headers = {**self.desk, "Idempotency-Key": key}
        try:
            answer = requests.post(
                f"{self.deployment.url('intake')}/complaints", json=body, headers=headers, timeout=60
            )
        except requests.RequestException:
            return "no answer", None
        return answer.status_code, answer.json().get("number") if answer.status_code == 201 else None

    def feed(self, seconds: float, answers: Answers) -> None:
        """`--rate` complaints a second for `seconds`, each retried until it is recorded."""
        count = max(1, round(seconds * self.args.rate))
        start = time.monotonic()
        with ThreadPoolExecutor(max_workers=32) as pool:
            for i in range(count):
                time.sleep(max(0.0, start + i / self.args.rate - time.monotonic()))
                pool.submit(self.post_until_recorded, answers)

    # ------------------------------------------------------------------ the books

    def value(self, query: str, *parameters):
        with psycopg.connect(self.database_url, connect_timeout=3) as conn:
            return conn.execute(query, parameters or None).fetchone()[0]

    def settle(self, numbers: list[str], timeout: float) -> tuple[float, float, AuditReport]:
        """Seconds until every complaint had its case and acknowledgement, seconds until the audit
        was clean (reporting's read model is the last to catch up), and the last audit."""
        start = time.monotonic()
        cased = float("nan")
        report = None
        while time.monotonic() - start < timeout:
            try:
                if cased != cased and self.value(
                    "SELECT count(*) FROM notify.deliveries d JOIN intake.complaints c ON c.id = d.complaint_id"
                    " JOIN routing.cases r ON r.id = c.id WHERE d.state = 'sent' AND d.kind = 'acknowledgement'"
                    " AND c.number = ANY(%s)",
                    numbers,
                ) >= len(numbers):
                    cased = time.monotonic() - start
                if cased == cased:
                    report = run_audit(self.database_url, self.amqp_url, settle_seconds=0, outbox_seconds=0)
                    if report.clean:
                        return cased, time.monotonic() - start, report
            except psycopg.OperationalError:
                pass
            time.sleep(1)
        report = report or run_audit(self.database_url, self.amqp_url, settle_seconds=0, outbox_seconds=0)
        return cased, float("nan"), report


class Backlog(threading.Thread):
    """The largest number of events waiting in intake's outbox while it runs."""

    def __init__(self, run: Run):
        super().__init__(daemon=True)
        self.run_ = run
        self.most = 0
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.wait(0.5):
            try:
                waiting = self.run_.value("SELECT count(*) FROM intake.outbox WHERE published_at IS NULL")
            except psycopg.OperationalError:
                continue  # the real PostgreSQL is the one restarting
            self.most = max(self.most, waiting)


# ---------------------------------------------------------------------- the faults


def cut_off(proxy, seconds: float) -> None:
    """The server behind `proxy` unreachable for `seconds`: connections cut, new ones refused."""
    proxy.down()
    time.sleep(seconds)
    proxy.up()


def rabbitmq_away(run: Run) -> str:
    if run.args.real:
        rabbitmqctl("stop_app", timeout=120)
        time.sleep(run.args.outage)
        rabbitmqctl("start_app", timeout=120)
        return f"rabbitmqctl stop_app, {run.args.outage:g} s, start_app"
    cut_off(run.rabbitmq, run.args.outage)
    return f"RabbitMQ unreachable (proxy cut) for {run.args.outage:g} s"


def postgres_away(run: Run) -> str:
    if run.args.real:
        version = str(run.value("SHOW server_version_num"))[:-4]
        subprocess.run(
            ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"],
            check=True,
            timeout=300,
        )
        return f"pg_ctlcluster {version} main restart"
    cut_off(run.postgres, run.args.outage)
    return f"PostgreSQL unreachable (proxy cut, every connection dropped) for {run.args.outage:g} s"


def routing_killed(run: Run) -> str:
    """The routing worker SIGKILLed every 3 s (mid-step: a burst keeps it busy) and started again."""
    deployment = run.deployment
    kills = 0
    end = time.monotonic() + run.args.outage
    while time.monotonic() < end:
        time.sleep(3)
        deployment.processes["routing-worker"].kill()
        deployment.processes["routing-worker"].wait(timeout=30)
        kills += 1
        deployment.start("routing-worker")
        deployment.wait_ready("routing-worker")
    return f"routing-worker SIGKILLed {kills} times in {run.args.outage:g} s (started again each time)"


FAULTS = {"rabbitmq": rabbitmq_away, "postgres": postgres_away, "routing-kill": routing_killed}


def scenario(run: Run, name: str) -> bool:
    answers = Answers()
    backlog = Backlog(run)
    backlog.start()
    lead = 5.0
    total = lead * 2 + run.args.outage
    feeder = threading.Thread(target=run.feed, args=(total, answers))
    started = time.monotonic()
    feeder.start()
    time.sleep(lead)
    what = FAULTS[name](run)
    feeder.join()
    posted = time.monotonic() - started
    cased, clean, report = run.settle(answers.numbers, run.args.settle_timeout)
    backlog.stopping.set()
    print(f"\n== {name}: {what}")
    print(
        f"   complaints: {sum(answers.first.values())} POSTed over {posted:.0f} s at {run.args.rate:g}/s;"
        f" first answers {dict(answers.first)}; {answers.tries} requests in all; recorded {len(answers.numbers)},"
        f" never recorded {answers.lost}"
    )
    print(
        f"   intake's outbox: at most {backlog.most} events waiting; after the last POST every complaint had"
        f" its case and acknowledgement in {cased:.1f} s, the audit was clean in {clean:.1f} s"
    )
    print("   " + summary(report).rstrip().replace("\n", "\n   "))
    return report.clean and answers.lost == 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--scenarios", default=",".join(SCENARIOS), help=f"comma-separated: {', '.join(SCENARIOS)}"
    )
    parser.add_argument("--outage", type=float, default=30, help="seconds each fault lasts (default 30)")
    parser.add_argument("--rate", type=float, default=10, help="complaints POSTed per second (default 10)")
    parser.add_argument(
        "--settle-timeout",
        type=float,
        default=600,
        help="seconds to wait for the books to balance after each fault (default 600)",
    )
    parser.add_argument(
        "--real",
        action="store_true",
        help="stop and start the real RabbitMQ and PostgreSQL (never on a shared machine)",
    )
    args = parser.parse_args(argv)
    chosen = [name.strip() for name in args.scenarios.split(",") if name.strip()]
    unknown = set(chosen) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenarios: {', '.join(sorted(unknown))}")
    print(
        "machine:",
        ", ".join(f"{key} {value}" for key, value in machine(mode="real" if args.real else "proxy").items()),
    )
    with tempfile.TemporaryDirectory(prefix="bench-faults-") as folder:
        run = Run(args, Path(folder))
        try:
            run.set_up()
            results = {name: scenario(run, name) for name in chosen}
        finally:
            run.tear_down()
    print("\n" + ", ".join(f"{name}: {'clean' if ok else 'FINDINGS'}" for name, ok in results.items()))
    return 0 if all(results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
