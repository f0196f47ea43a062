"""SIGTERM, as `docker stop` and Kubernetes send it, to the compose file's workers in a burst.

Each is stopped while it holds work: intake's API while its relay publishes, routing's worker
while it starts cases, notify's while it sends e-mail to a mail server that takes its time. Each
finishes what it holds, takes nothing new, and exits 0; what it had not begun waits (in the outbox,
the queue, the deliveries table) for the next worker; nothing is lost and nothing is done twice.
"""

from __future__ import annotations

import signal
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.e2e.test_deployment import post_complaint
from tests.integration.conftest import complaint
from tests.support.deployment import Deployment
from tests.support.mailserver import MailServer
from tests.support.processes import stop
from tests.support.waiting import eventually

pytestmark = pytest.mark.e2e

CASES_WITHOUT_FIRST_TASK = """
SELECT count(*) FROM routing.cases c
 WHERE NOT EXISTS (SELECT 1 FROM routing.tasks t WHERE t.case_id = c.id AND t.element_id = 'handle_floor')
"""
FINISHED = "every worker finished what it held and stopped"


def start(deployment: Deployment, *names: str) -> None:
    for name in names:
        deployment.start(name)
    for name in names:
        deployment.wait_ready(name)


def count(deployment: Deployment, query: str, *parameters) -> int:
    return deployment.rows(query, *parameters)[0][0]


def test_sigterm_in_the_middle_of_a_burst_lets_relay_and_worker_finish_what_they_hold_and_loses_nothing(
    deployment,
):
    start(deployment, "intake", "intake-worker", "routing-worker")
    assert stop(deployment.processes["routing-worker"]) == 0  # its queues exist; the burst waits there
    desk = deployment.bearer("desk")
    burst = 240

    # The burst arrives; intake's API, whose relay publishes what it records, is told to stop while
    # its relay publishes the first third, and the rest arrive once it is back.
    post = lambda n: post_complaint(deployment.url("intake"), desk, f"burst-{n:03d}")["number"]  # noqa: E731
    with ThreadPoolExecutor(max_workers=8) as pool:
        numbers = list(pool.map(post, range(burst // 3)))
        assert stop(deployment.processes["intake"]) == 0, deployment.log("intake")
    assert FINISHED in deployment.log("intake")
    start(deployment, "intake")
    with ThreadPoolExecutor(max_workers=8) as pool:
        numbers += list(pool.map(post, range(burst // 3, burst)))
    assert len(set(numbers)) == burst
    eventually(lambda: deployment.ready_messages("routing.complaints") == burst, timeout=120)

    # routing's worker is told to stop while it works through the queue.
    worker = deployment.start("routing-worker")
    eventually(
        lambda: count(deployment, "SELECT count(*) FROM routing.cases") >= 20, timeout=120, interval=0.01
    )
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(timeout=60) == 0
    assert FINISHED in deployment.log("routing-worker")
    started = count(deployment, "SELECT count(*) FROM routing.cases")
    assert 20 <= started < burst  # stopped in the middle
    # What it took, it finished: every case it began has its first task and its inbox row; what it
    # had been handed but not begun went back to the queue.
    assert count(deployment, CASES_WITHOUT_FIRST_TASK) == 0
    assert count(deployment, "SELECT count(*) FROM routing.inbox") == started
    assert deployment.ready_messages("routing.complaints") == burst - started

    deployment.start("routing-worker")
    eventually(lambda: count(deployment, "SELECT count(*) FROM routing.cases") == burst, timeout=180)
    per_case = deployment.rows(
        "SELECT count(*) FILTER (WHERE element_id = 'handle_floor') FROM routing.tasks GROUP BY case_id"
    )
    assert len(per_case) == burst and set(per_case) == {(1,)}  # each its first task, once
    assert count(deployment, CASES_WITHOUT_FIRST_TASK) == 0
    assert deployment.ready_messages("routing.complaints.dead") == 0
    assert count(deployment, "SELECT count(*) FROM intake.outbox WHERE published_at IS NULL") == 0
    assert {number for (number,) in deployment.rows("SELECT number FROM routing.cases")} == set(numbers)
    assert (
        deployment.metric("routing-worker", "mall_events_consumed_total", outcome="handled")
        == burst - started
    )
    assert deployment.metric("routing-worker", "mall_events_consumed_total", outcome="duplicate") == 0


@pytest.fixture
def slow_mail_server():
    """A mail server taking a tenth of a second over each message, so a burst lasts long enough to be
    interrupted (2 delivery threads, each with its SMTP connection: about 20 messages a second)."""
    server = MailServer(delay=0.1).start()
    yield server
    server.stop()


@pytest.fixture
def mail_deployment(tmp_path, empty_database, amqp_url, slow_mail_server):
    deployment = Deployment(
        tmp_path,
        empty_database,
        amqp_url,
        NOTIFY_QUIET_HOURS="none",
        SMTP_URL=f"smtp://127.0.0.1:{slow_mail_server.port}",
    )
    for job in ("migrate", "deploy-diagram"):
        assert deployment.job(job).returncode == 0
    deployment.cli("seed")
    deployment.cli("user", "create", "desk", "--role", "service_desk")
    yield deployment
    deployment.kill_leftovers()


EMAILS = "SELECT id::text, state FROM notify.deliveries WHERE channel = 'email'"


def test_sigterm_to_the_notify_worker_while_it_sends_lets_it_finish_its_messages_and_none_is_lost_or_sent_twice(
    mail_deployment, slow_mail_server
):
    deployment, mail = mail_deployment, slow_mail_server
    start(deployment, "intake", "intake-worker", "routing-worker", "notify-worker")
    assert stop(deployment.processes["notify-worker"]) == 0  # its queue exists; the burst waits there
    desk, burst, tag = deployment.bearer("desk"), 60, uuid.uuid4().hex[:8]
    address = lambda n: f"burst-{tag}-{n}@example.com"  # noqa: E731 — one each: no rate limit holds any back

    with ThreadPoolExecutor(max_workers=8) as pool:

        def body(n):
            customer = {
                "name": "顾客",
                "email": address(n),
                "phone": f"1381{n:07d}",
                "preferred_reply_channel": "email",
            }
            return complaint(customer=customer)

        list(
            pool.map(
                lambda n: post_complaint(deployment.url("intake"), desk, f"mail-{n:03d}", body(n)),
                range(burst),
            )
        )
    # Every acknowledgement is asked for (routing's outbox published) before notify's worker starts.
    eventually(lambda: count(deployment, "SELECT count(*) FROM routing.cases") == burst, timeout=180)
    eventually(
        lambda: count(deployment, "SELECT count(*) FROM routing.outbox WHERE published_at IS NULL") == 0,
        timeout=120,
    )

    # notify's worker is told to stop while its delivery threads send.
    worker = deployment.start("notify-worker")
    eventually(lambda: len(mail.received) >= 15, timeout=120, interval=0.01)
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(timeout=60) == 0
    assert FINISHED in deployment.log("notify-worker")
    # What it took, it sent and recorded: no delivery is left `sending`, every message the mail server
    # accepted is a delivery recorded as sent, and the rest wait, pending, for the next worker.
    states = dict(deployment.rows(EMAILS))
    received = [message_id(item) for item in mail.received]
    assert "sending" not in set(
        dict(deployment.rows("SELECT id::text, state FROM notify.deliveries")).values()
    )
    assert sorted(received) == sorted(id_ for id_, state in states.items() if state == "sent")
    assert 15 <= len(received) < burst  # stopped in the middle
    assert set(states.values()) <= {"sent", "pending"}
    sent_before = len(received)

    deployment.start("notify-worker")
    eventually(
        lambda: len(mail.received) >= burst and set(dict(deployment.rows(EMAILS)).values()) == {"sent"},
        timeout=180,
    )
    received = [message_id(item) for item in mail.received]
    assert len(received) == len(set(received)) == burst  # each customer once: nothing sent twice
    assert sorted(received) == sorted(dict(deployment.rows(EMAILS)))
    assert {rcpt for item in mail.received for rcpt in item.rcpt_tos} == {address(n) for n in range(burst)}
    assert count(deployment, "SELECT count(*) FROM notify.attempts WHERE outcome = 'interrupted'") == 0
    assert deployment.ready_messages("notify.events.dead") == 0
    assert deployment.metric("notify-worker", "mall_events_consumed_total", outcome="duplicate") == 0
    # the second worker sent what the first had not, and its counter says so
    sent_after = deployment.metric(
        "notify-worker", "mall_notify_delivery_attempts_total", channel="email", outcome="sent"
    )
    assert sent_after == burst - sent_before


def message_id(mail) -> str:
    """The delivery id in a message's Message-ID (`<delivery id@domain>`, docs/architecture.md)."""
    return mail.message["Message-ID"].strip("<>").split("@", 1)[0]
