"""Faults against the compose file's processes, each followed by the books audit, which must be clean.

One deployment serves the whole module (its own database and RabbitMQ vhost): intake's API and
worker, routing's, notify's and reporting's workers, each its own process, reaching PostgreSQL and
RabbitMQ through a TCP proxy the test can cut (tests/support/tcp_proxy.py) — the shared servers
themselves are never stopped. The servers are the rest of the suite's: TEST_DATABASE_URL,
TEST_AMQP_URL and TEST_RABBITMQ_NODE (tests/support/servers.py). Each test breaks one thing in the middle of real traffic (complaints
POSTed to intake's API, acknowledgements mailed to a real SMTP server), heals it, waits for the
system to settle and runs `python -m services audit`'s checks (services/audit) with no grace period.
After each test every process runs again and both proxies are up, for the next.

bench/faults.py runs the long versions (RabbitMQ away for 30 s, bigger bursts).
"""

from __future__ import annotations

import itertools
import json
import signal
import subprocess
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import psycopg
import pytest
import requests
from kombu import Connection, Producer
from psycopg import sql

from services.audit.command import run_audit
from services.audit.model import AuditReport
from tests.conftest import _admin, database_url
from tests.e2e.test_deployment_shutdown import message_id
from tests.integration.conftest import complaint
from tests.support.deployment import ROOT, Deployment
from tests.support.mailserver import MailServer
from tests.support.processes import answers, free_port, run, start
from tests.support.servers import ADMIN_URL, AMQP_BASE, add_vhost, delete_vhost, host_port, proxied
from tests.support.tcp_proxy import TcpProxy
from tests.support.waiting import eventually

pytestmark = pytest.mark.e2e

RUNNING = ["intake", "intake-worker", "routing-worker", "notify-worker", "reporting-worker"]
POSTGRES = host_port(ADMIN_URL)
RABBITMQ = host_port(AMQP_BASE)
OUTAGE_SECONDS = 3  # how long a server stays away (bench/faults.py: longer)


@dataclass
class Mall:
    deployment: Deployment
    database_url: str  # the server itself, for the test's own queries and the audit
    amqp_url: str
    postgres: TcpProxy  # what every process of the deployment connects through
    rabbitmq: TcpProxy
    mail: MailServer
    desk: dict = field(default_factory=dict)
    tag: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    serial: Iterator[int] = field(default_factory=itertools.count)

    def rows(self, query: str, *parameters) -> list[tuple]:
        with psycopg.connect(self.database_url) as conn:
            return conn.execute(query, parameters or None).fetchall()

    def value(self, query: str, *parameters):
        return self.rows(query, *parameters)[0][0]

    def address(self, n: int) -> str:
        return f"faults-{self.tag}-{n}@example.com"

    def body(self) -> tuple[dict, str]:
        """A complaint from a customer of its own (notify's per-address rate limit holds none back)."""
        n = next(self.serial)
        customer = {
            "name": "顾客",
            "email": self.address(n),
            "phone": f"1371{n:07d}",
            "preferred_reply_channel": "email",
        }
        return complaint(customer=customer), self.address(n)


@pytest.fixture(scope="module")
def mall(tmp_path_factory) -> Iterator[Mall]:
    name = f"mall_test_{uuid.uuid4().hex[:12]}"
    _admin(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    direct_amqp = add_vhost(name)
    postgres, rabbitmq = TcpProxy(*POSTGRES), TcpProxy(*RABBITMQ)
    postgres.up()
    rabbitmq.up()
    mail = MailServer().start()
    direct_db = database_url(name)
    deployment = Deployment(
        tmp_path_factory.mktemp("faults"),
        proxied(direct_db, postgres.port),
        proxied(direct_amqp, rabbitmq.port),
        SMTP_URL=f"smtp://127.0.0.1:{mail.port}",
        NOTIFY_QUIET_HOURS="none",
    )
    mall = Mall(deployment, direct_db, direct_amqp, postgres, rabbitmq, mail)
    try:
        for job in ("migrate", "deploy-diagram"):
            assert deployment.job(job).returncode == 0, deployment.job(job).stderr
        deployment.cli("seed")
        deployment.cli("user", "create", "desk", "--role", "service_desk")
        mall.desk = deployment.bearer("desk")
        for process in RUNNING:
            deployment.start(process)
        for process in RUNNING:
            deployment.wait_ready(process)
        yield mall
    finally:
        deployment.kill_leftovers()
        postgres.down()
        rabbitmq.down()
        mail.stop()
        _admin(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        delete_vhost(name)


@pytest.fixture
def healthy(mall: Mall) -> Iterator[Mall]:
    """The deployment whole before the test, and made whole again after it whatever happened."""
    yield mall
    if not mall.postgres.is_up:
        mall.postgres.up()
    if not mall.rabbitmq.is_up:
        mall.rabbitmq.up()
    mall.mail.handler.delay = 0
    for process in RUNNING:
        if mall.deployment.processes[process].poll() is not None:
            mall.deployment.start(process)
            mall.deployment.wait_ready(process)


def post(mall: Mall, body: dict, key: str) -> requests.Response | None:
    """POST a complaint with an Idempotency-Key, as the console and the web form do; None when the
    request got no answer at all."""
    headers = {**mall.desk, "Idempotency-Key": key, "X-Correlation-ID": key}
    try:
        return requests.post(
            f"{mall.deployment.url('intake')}/complaints", json=body, headers=headers, timeout=60
        )
    except requests.RequestException:
        return None


def burst(
    mall: Mall, count: int, during=None, at: int = 0
) -> list[tuple[str, dict, requests.Response | None]]:
    """`count` complaints POSTed 8 at a time; `during()` is called, with requests in flight, once
    `at` of them were answered."""
    bodies = [(f"{mall.tag}-{uuid.uuid4().hex[:12]}", mall.body()[0]) for _ in range(count)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        futures = [pool.submit(post, mall, body, key) for key, body in bodies]
        if during is not None:
            eventually(lambda: sum(future.done() for future in futures) >= at, timeout=120, interval=0.01)
            during()
        answered = [future.result() for future in futures]
    return [(key, body, answer) for (key, body), answer in zip(bodies, answered, strict=True)]


def accepted(answers_: list) -> list[str]:
    return [
        answer.json()["number"]
        for _, _, answer in answers_
        if answer is not None and answer.status_code == 201
    ]


def audit(mall: Mall) -> AuditReport:
    """The audit with no grace period: only once the system has settled can it be clean."""
    return run_audit(mall.database_url, mall.amqp_url, settle_seconds=0, outbox_seconds=0)


def settled(mall: Mall, numbers: list[str], timeout: float = 120) -> AuditReport:
    """Wait until every complaint has its case, first task and acknowledgement, then audit; the
    audit must be clean (its findings are the failure's message)."""
    last: list[AuditReport] = []

    def done() -> bool:
        cases = mall.value("SELECT count(*) FROM routing.cases WHERE number = ANY(%s)", numbers)
        sent = mall.value(
            "SELECT count(*) FROM notify.deliveries WHERE state = 'sent' AND kind = 'acknowledgement'"
            " AND complaint_id IN (SELECT id FROM intake.complaints WHERE number = ANY(%s))",
            numbers,
        )
        if cases < len(numbers) or sent < len(numbers):
            return False
        last[:] = [audit(mall)]
        return last[0].clean

    try:
        eventually(done, timeout=timeout, interval=0.5)
    except AssertionError:
        findings = last[0].findings if last else "the complaints never all got their case and acknowledgement"
        raise AssertionError(f"the books do not balance: {findings}") from None
    return last[0]


def assert_once_each(mall: Mall, numbers: list[str]) -> None:
    """One complaint, one case, one open first task and one acknowledgement mailed per number."""
    assert len(numbers) == len(set(numbers))
    per_number = mall.rows(
        "SELECT c.number, count(DISTINCT c.id), count(t.id) FILTER (WHERE t.element_id = 'handle_floor'"
        " AND t.state = 'open') FROM routing.cases c LEFT JOIN routing.tasks t ON t.case_id = c.id"
        " WHERE c.number = ANY(%s) GROUP BY c.number",
        numbers,
    )
    assert sorted(per_number) == sorted((number, 1, 1) for number in numbers)
    addresses = mall.rows("SELECT customer->>'email' FROM intake.complaints WHERE number = ANY(%s)", numbers)
    for (address,) in addresses:  # each customer mailed once, the message of its own delivery
        [mail] = mall.mail.to(address)
        assert mall.value("SELECT address FROM notify.deliveries WHERE id = %s", message_id(mail)) == address


def test_rabbitmq_unreachable_during_a_burst_then_back_loses_no_complaint_and_doubles_none(healthy):
    mall = healthy
    intake_worker_ready = mall.deployment.metrics_url("intake-worker").replace("/metrics", "/readyz")
    intake_ready = mall.deployment.metrics_url("intake").replace("/metrics", "/readyz")

    def cut() -> None:
        mall.rabbitmq.down()
        eventually(lambda: not answers(intake_worker_ready), timeout=30)  # the relay noticed
        assert answers(intake_ready)  # the API stays ready: its own relay waits, its outbox keeps

    answered = burst(mall, 40, during=cut, at=10)
    numbers = accepted(answered)
    assert len(numbers) == 40  # intake takes complaints without the broker: they wait in its outbox
    waiting = mall.value("SELECT count(*) FROM intake.outbox WHERE published_at IS NULL")
    assert waiting >= 30  # what came during the outage is waiting
    mall.rabbitmq.up()

    settled(mall, numbers)
    assert_once_each(mall, numbers)


def test_postgresql_cut_off_during_a_burst_answers_503_and_every_201_has_its_case(healthy):
    mall = healthy
    ready = mall.deployment.metrics_url("intake").replace("/metrics", "/readyz")

    def cut() -> None:
        mall.postgres.down()  # every open connection cut, new ones refused ...
        eventually(lambda: not answers(ready), timeout=30)
        threading.Timer(OUTAGE_SECONDS, mall.postgres.up).start()  # ... for a few seconds

    answered = burst(mall, 40, during=cut, at=10)
    statuses = [answer.status_code if answer is not None else None for _, _, answer in answered]
    assert set(statuses) <= {201, 503}, statuses
    assert statuses.count(503) >= 1  # the requests in flight when it went were told to come back
    eventually(lambda: answers(ready), timeout=60)
    numbers = accepted(answered)
    # The clients try again with the same key: what was recorded before the answer was lost is
    # answered as recorded, the rest is recorded now; each complaint once.
    for key, body, answer in answered:
        if answer is None or answer.status_code != 201:
            again = eventually(lambda key=key, body=body: post(mall, body, key), timeout=60)
            assert again.status_code == 201, again.text
            numbers.append(again.json()["number"])
    keys = [key for key, _, _ in answered]
    # Nothing half-written: every complaint has its idempotency key and its event, one each.
    assert mall.rows(
        "SELECT count(DISTINCT c.id), count(DISTINCT k.key), count(DISTINCT o.id) FROM intake.idempotency_keys k"
        " JOIN intake.complaints c ON c.id = k.complaint_id LEFT JOIN intake.outbox o ON"
        " o.envelope->>'complaint_id' = c.id::text AND o.routing_key = 'complaint.received' WHERE k.key = ANY(%s)",
        keys,
    ) == [(40, 40, 40)]

    settled(mall, numbers)
    assert len(numbers) == 40
    assert_once_each(mall, numbers)


def start_second(deployment: Deployment, name: str, label: str) -> subprocess.Popen:
    """Another replica of a compose service: the same command and environment, its own metrics port."""
    env = {**deployment.env(name), "METRICS_PORT": str(free_port())}
    return start(deployment.services[name].command, env, deployment.logs / f"{label}.log", cwd=ROOT)


def test_a_routing_worker_killed_mid_burst_leaves_its_cases_to_the_other_each_exactly_once(healthy):
    mall = healthy
    deployment = mall.deployment
    deployment.processes["routing-worker"].send_signal(signal.SIGTERM)
    assert deployment.processes["routing-worker"].wait(timeout=60) == 0
    before = mall.value("SELECT count(*) FROM routing.cases")
    numbers = accepted(burst(mall, 80))
    assert len(numbers) == 80
    eventually(lambda: deployment.ready_messages("routing.complaints") == 80, timeout=60)

    victim = deployment.start("routing-worker")
    other = start_second(deployment, "routing-worker", "routing-worker-2")
    try:
        eventually(
            lambda: mall.value("SELECT count(*) FROM routing.cases") >= before + 10,
            timeout=120,
            interval=0.01,
        )
        victim.send_signal(signal.SIGKILL)  # in the middle of its share: steps begun, messages unacked
        victim.wait(timeout=30)
        assert mall.value("SELECT count(*) FROM routing.cases") < before + 80
        settled(mall, numbers)
    finally:
        other.send_signal(signal.SIGTERM)
        other.wait(timeout=60)
    assert_once_each(mall, numbers)
    assert (
        mall.value("SELECT count(*) FROM routing.inbox WHERE consumer = 'routing.complaints'") == before + 80
    )


def test_a_notify_worker_killed_while_sending_delivers_the_message_once_after_its_lease(healthy):
    mall = healthy
    deployment = mall.deployment
    mall.mail.handler.delay = 30  # the mail server takes its time: the kill lands inside the SMTP DATA
    body, address = mall.body()
    numbers = [post(mall, body, f"{mall.tag}-slow").json()["number"]]
    eventually(lambda: address in mall.mail.handler.receiving, timeout=60)
    deployment.processes["notify-worker"].send_signal(signal.SIGKILL)
    deployment.processes["notify-worker"].wait(timeout=30)
    assert mall.mail.to(address) == []  # the mail server never accepted the cut-off message
    [(delivery, state)] = mall.rows(
        "SELECT id::text, state FROM notify.deliveries WHERE address = %s", address
    )
    assert state == "sending"

    mall.mail.handler.delay = 0
    deployment.start("notify-worker")
    deployment.wait_ready("notify-worker")
    lease_ends(mall, address)
    report = settled(mall, numbers)
    assert_once_each(mall, numbers)
    outcomes = mall.rows(
        "SELECT a.outcome FROM notify.attempts a JOIN notify.deliveries d ON d.id = a.delivery_id"
        " WHERE d.address = %s ORDER BY a.id",
        address,
    )
    assert [outcome for (outcome,) in outcomes] == ["interrupted", "sent"]
    # The audit cannot know whether the first try reached the customer: a notice, not a finding.
    assert delivery in resent(report)


def test_a_notify_worker_killed_after_the_server_accepted_but_before_recording_it_sends_it_again(healthy):
    """The at-least-once window (docs/operations.md): the message was accepted, the record of it was
    not written; the next worker sends it again with the same Message-ID. The audit lists it as a
    notice (a mail client shows one message per Message-ID), never as a duplicate it cannot prove."""
    mall = healthy
    deployment = mall.deployment
    mall.mail.handler.delay = 2
    body, address = mall.body()
    numbers = [post(mall, body, f"{mall.tag}-window").json()["number"]]
    eventually(lambda: address in mall.mail.handler.receiving, timeout=60)
    mall.postgres.down()  # the outcome cannot be recorded ...
    eventually(lambda: mall.mail.to(address), timeout=30)  # ... though the server accepted it
    deployment.processes["notify-worker"].send_signal(signal.SIGKILL)
    deployment.processes["notify-worker"].wait(timeout=30)
    mall.postgres.up()
    mall.mail.handler.delay = 0
    deployment.start("notify-worker")
    deployment.wait_ready("notify-worker")
    lease_ends(mall, address)
    report = settled(mall, numbers)

    first, second = mall.mail.to(address)
    assert first.message["Message-ID"] == second.message["Message-ID"]
    assert message_id(first) in resent(report)  # a notice; the audit is clean


def lease_ends(mall: Mall, address: str) -> None:
    """The lease of a delivery cut off mid-send (ten minutes) runs out: moved forward, not waited for."""
    ended = mall.rows(
        "UPDATE notify.deliveries SET next_attempt_at = now() WHERE state = 'sending'"
        " AND address = %s RETURNING id",
        address,
    )
    assert len(ended) == 1


def resent(report: AuditReport) -> set[str]:
    return {
        notice.data["delivery_id"] for notice in report.notices if notice.check == "resent_after_interruption"
    }


def republish(amqp_url: str, queue: str, order) -> int:
    """Take every message of `queue` and put them back as `order(messages)` arranges them (the same
    bodies, ids and properties), as a broker that redelivers or reorders would hand them over."""
    with Connection(amqp_url, transport_options={"confirm_publish": True}) as connection:
        channel = connection.channel()
        taken = []
        while (message := channel.basic_get(queue, no_ack=False)) is not None:
            taken.append(message)
        producer = Producer(connection.channel())
        for message in order(taken):
            kept = message.properties
            producer.publish(
                message.body,
                exchange="",
                routing_key=queue,
                headers=kept.get("application_headers"),
                content_type=kept.get("content_type"),
                content_encoding=kept.get("content_encoding"),
                delivery_mode=2,
                message_id=kept.get("message_id"),
                type=kept.get("type"),
                correlation_id=kept.get("correlation_id"),
            )
        for message in taken:
            channel.basic_ack(message.delivery_tag)
        return len(taken)


CONSUMERS = {
    "routing-worker": "routing.complaints",
    "notify-worker": "notify.events",
    "reporting-worker": "reporting.events",
}


def with_consumers_stopped(mall: Mall, count: int, order) -> tuple[list[str], dict[str, int]]:
    """Stop routing's, notify's and reporting's workers, POST `count` complaints, rearrange what waits
    in their queues with `order`, start them again. Routing first, so that its events (the
    acknowledgement requests, the task events) are in notify's and reporting's queues too."""
    deployment = mall.deployment
    for name in CONSUMERS:
        deployment.processes[name].send_signal(signal.SIGTERM)
    for name in CONSUMERS:
        assert deployment.processes[name].wait(timeout=60) == 0
    numbers = accepted(burst(mall, count))
    eventually(lambda: deployment.ready_messages("routing.complaints") == count, timeout=60)
    moved = {"routing.complaints": republish(mall.amqp_url, "routing.complaints", order)}
    deployment.start("routing-worker")
    deployment.wait_ready("routing-worker")
    eventually(
        lambda: (
            mall.value("SELECT count(*) FROM routing.outbox WHERE published_at IS NULL") == 0
            and mall.value("SELECT count(*) FROM routing.cases WHERE number = ANY(%s)", numbers) == count
        ),
        timeout=60,
    )
    # each complaint's received event and its acknowledgement request wait in notify's queue before
    # they are rearranged (on a loaded machine the last confirm can trail the outbox's mark)
    eventually(lambda: deployment.ready_messages("notify.events") >= 2 * count, timeout=60)
    for name in ("notify-worker", "reporting-worker"):
        moved[CONSUMERS[name]] = republish(mall.amqp_url, CONSUMERS[name], order)
        deployment.start(name)
    for name in ("notify-worker", "reporting-worker"):
        deployment.wait_ready(name)
    return numbers, moved


def test_every_event_delivered_twice_is_applied_once_by_every_consumer(healthy):
    mall = healthy
    numbers, moved = with_consumers_stopped(mall, 5, lambda messages: [m for m in messages for _ in (1, 2)])
    assert (
        moved["routing.complaints"] == 5 and moved["notify.events"] >= 10
    )  # received + acknowledgement asked
    settled(mall, numbers)
    assert_once_each(mall, numbers)
    for process, queue in CONSUMERS.items():  # every second copy was recognised and skipped
        duplicates = lambda process=process, queue=queue: mall.deployment.metric(  # noqa: E731
            process, "mall_events_consumed_total", consumer=queue, outcome="duplicate"
        )
        eventually(lambda duplicates=duplicates, queue=queue: duplicates() == moved[queue], timeout=60)


def test_events_delivered_newest_first_reach_the_same_books(healthy):
    mall = healthy
    numbers, moved = with_consumers_stopped(mall, 5, lambda messages: list(reversed(messages)))
    assert moved["reporting.events"] > 5  # task events as well as the complaints
    settled(mall, numbers)
    assert_once_each(mall, numbers)
    # notify heard of each acknowledgement before its complaint: it held each, then sent it
    assert "request held until its complaint is known" in mall.deployment.log("notify-worker")
    received = mall.rows(
        "SELECT count(*) FROM reporting.cases WHERE number = ANY(%s) AND received_at IS NOT NULL"
        " AND first_queue IS NOT NULL",
        numbers,
    )
    assert received == [(5,)]


def cli_audit(mall: Mall, *args: str) -> subprocess.CompletedProcess:
    """`python -m services audit` as an operator runs it, on the servers themselves."""
    env = {**mall.deployment.env("cli"), "DATABASE_URL": mall.database_url, "AMQP_URL": mall.amqp_url}
    return run(["audit", "--settle-seconds", "0", *args], env, cwd=ROOT)


def test_a_poison_message_ends_in_the_dead_letter_queue_and_the_audit_reports_it_until_discarded(healthy):
    mall = healthy
    numbers = accepted(burst(mall, 3))
    with Connection(mall.amqp_url) as connection:
        Producer(connection.default_channel).publish(
            {"type": "complaint.received", "id": "not-a-uuid", "payload": {}},
            exchange="mall.events",
            routing_key="complaint.received",
            message_id="poison-1",
            serializer="json",
        )
    eventually(lambda: mall.deployment.ready_messages("routing.complaints.dead") == 1, timeout=60)
    eventually(  # the good ones around it still go through
        lambda: mall.value("SELECT count(*) FROM routing.cases WHERE number = ANY(%s)", numbers) == 3
    )

    found = cli_audit(mall, "--json")
    assert found.returncode == 1, found.stderr
    report = json.loads(found.stdout)
    poison = [item for item in report["findings"] if item["check"] == "dead_letter"]
    # the same message reached notify's and reporting's queues too (they bind complaint.received)
    assert sorted(item["subject"] for item in poison) == [
        "notify.events.dead",
        "reporting.events.dead",
        "routing.complaints.dead",
    ]
    assert {item["data"]["error_type"] for item in poison} == {"ValidationError"}
    assert all("malformed envelope" in item["data"]["error"] for item in poison)
    assert [item for item in report["findings"] if item["check"] != "dead_letter"] == []

    for queue in ("routing.complaints.dead", "notify.events.dead", "reporting.events.dead"):
        discarded = run(
            [
                "dead-letter",
                "discard",
                queue,
                "poison-1",
                "--reason",
                "a hand-made event, not from a service",
            ],
            {**mall.deployment.env("cli"), "AMQP_URL": mall.amqp_url},
            cwd=ROOT,
        )
        assert discarded.returncode == 0, discarded.stderr
    clean = cli_audit(mall)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "clean:" in clean.stdout
    settled(mall, numbers)
