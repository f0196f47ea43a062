"""The system as operators and developers start it: real processes, real HTTP."""

from __future__ import annotations

import pytest
import requests
from kombu import Connection, Queue

from services.common.bus.topology import EVENTS_EXCHANGE
from tests.conftest import SECRET
from tests.integration.conftest import complaint
from tests.support.processes import answers, free_port, run, start, stop
from tests.support.waiting import eventually


@pytest.fixture
def all_in_one(tmp_path):
    port = free_port()
    log = tmp_path / "run.log"
    # No quiet hours: the customers' messages must not wait for the morning when this runs at night.
    env = {"DATA_DIR": str(tmp_path / "data"), "HTTP_PORT": str(port), "NOTIFY_QUIET_HOURS": "none"}
    process = start(["run"], env, log)
    base = f"http://127.0.0.1:{port}"
    try:
        eventually(lambda: process.poll() is not None or answers(f"{base}/intake/readyz"), timeout=180)
        assert process.poll() is None, log.read_text()
        yield base, tmp_path / "data", process, log
    finally:
        if process.poll() is None:
            process.kill()


def test_the_run_command_with_nothing_set_takes_a_complaint_to_a_task_on_an_embedded_database(all_in_one):
    base, data_dir, process, log = all_in_one
    desk = {"Authorization": f"Bearer {(data_dir / 'desk-token').read_text()}"}

    created = requests.post(f"{base}/intake/complaints", json=complaint(), headers=desk, timeout=10)
    missing_phone = requests.post(
        f"{base}/intake/complaints", json=complaint(customer={"name": "王女士"}), headers=desk, timeout=10
    )
    index = requests.get(base, timeout=10).json()
    form = requests.get(f"{base}/intake/form", timeout=10)

    assert created.status_code == 201, created.text
    assert created.json()["number"].startswith("TS-")
    assert missing_phone.status_code == 400
    assert missing_phone.json()["errors"]["json"]["customer"]["phone"]
    assert index["services"]["intake"] == "/intake/openapi.json"
    assert form.status_code == 200 and "顾客投诉" in form.text
    assert "embedded PostgreSQL" in log.read_text()
    # routing, in the same process over the in-memory broker, puts it in the floor's queue
    floor3 = {"Authorization": f"Bearer {(data_dir / 'tokens' / 'floor3').read_text()}"}

    def queued():
        items = requests.get(f"{base}/routing/tasks", headers=floor3, timeout=10).json()["items"]
        return [item for item in items if item["number"] == created.json()["number"]]

    [task] = eventually(queued, timeout=30)
    assert task["element_id"] == "handle_floor"
    # each service mounted in the one process reports its own gauges at /<name>/metrics
    metrics = requests.get(f"{base}/routing/metrics", timeout=10).text
    assert 'mall_routing_tasks_open{queue="floor_supervisor"} 1.0' in metrics
    assert 'mall_outbox_backlog{service="intake"}' in requests.get(f"{base}/intake/metrics", timeout=10).text
    # notify, in the same process with no SMS gateway set, keeps the acknowledgement in a folder
    [sms] = eventually(lambda: list((data_dir / "outbox" / "sms").glob("*.json")), timeout=30)
    assert created.json()["number"] in sms.read_text(encoding="utf-8")
    assert "notify API" in log.read_text() and "SMS in" in log.read_text()
    # reporting, in the same process, has it in the operations manager's daily review
    ops = {"Authorization": f"Bearer {(data_dir / 'tokens' / 'ops').read_text()}"}

    def reviewed():
        review = requests.get(f"{base}/reporting/reviews/daily", headers=ops, timeout=10).json()
        return created.json()["number"] in {item["number"] for item in review["new"]["items"]}

    assert eventually(reviewed, timeout=30)
    assert index["services"]["reporting"] == "/reporting/openapi.json"
    assert stop(process) == 0


def test_intake_runs_as_its_own_process_and_its_events_reach_rabbitmq(tmp_path, db_url, amqp_url):
    with Connection(amqp_url) as connection:  # a department's own system listening for complaints
        listener = Queue("listener", exchange=EVENTS_EXCHANGE, routing_key="complaint.#")
        listener(connection.default_channel).declare()
    port = free_port()
    env = {"DATABASE_URL": db_url, "AMQP_URL": amqp_url, "AUTH_SECRET": SECRET, "HTTP_PORT": str(port)}
    assert run(["seed"], env).returncode == 0
    token = run(["token", "service", "desk-terminal"], env).stdout.strip()
    process = start(["serve", "intake"], env, tmp_path / "intake.log")
    try:
        eventually(lambda: answers(f"http://127.0.0.1:{port}/readyz"), timeout=60)
        staff = {"Authorization": f"Bearer {token}"}
        refused = requests.post(
            f"http://127.0.0.1:{port}/complaints", json=complaint(), headers=staff, timeout=10
        )
        assert refused.status_code == 403  # a service token is not the service desk

        public = {key: complaint()[key] for key in ("category", "description", "floor", "merchant_code")}
        public["customer"], public["consent"] = {"name": "王女士", "phone": "13912345678"}, True
        created = requests.post(f"http://127.0.0.1:{port}/public/complaints", json=public, timeout=10)
        assert created.status_code == 201

        with Connection(amqp_url) as connection:
            queue = listener(connection.default_channel)
            message = eventually(lambda: queue.get(no_ack=True), timeout=30)
        assert message.payload["type"] == "complaint.received"
        assert message.payload["payload"]["number"] == created.json()["number"]
        assert message.properties["delivery_mode"] == 2
    finally:
        assert stop(process) == 0


def test_notify_runs_as_its_own_process_and_mails_the_customer(tmp_path, db_url, amqp_url):
    from tests.integration.notify.conftest import complaint_received, requested
    from tests.integration.notify.test_broker import publish
    from tests.support.mailserver import MailServer

    mail = MailServer().start()
    port = free_port()
    env = {
        "DATABASE_URL": db_url,
        "AMQP_URL": amqp_url,
        "AUTH_SECRET": SECRET,
        "HTTP_PORT": str(port),
        "SMTP_URL": f"smtp://127.0.0.1:{mail.port}",
        "NOTIFY_QUIET_HOURS": "none",
    }
    process = start(["serve", "notify"], env, tmp_path / "notify.log")
    try:
        eventually(lambda: answers(f"http://127.0.0.1:{port}/readyz"), timeout=60)
        received = complaint_received(
            customer={"email": "wang@example.com", "preferred_reply_channel": "email"}
        )
        publish(amqp_url, received, requested(received.complaint_id))

        [message] = eventually(lambda: mail.to("wang@example.com"), timeout=60)
        assert "TS-20261122-0001" in message.message["Subject"]
        unauthenticated = requests.get(f"http://127.0.0.1:{port}/inbox", timeout=10)
        assert unauthenticated.status_code == 401
    finally:
        assert stop(process) == 0
        mail.stop()
