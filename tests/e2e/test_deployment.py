"""The compose file's services as processes: the commands the image runs, outside a container.

Each service of deploy/compose.yaml is started as its own process with the command and environment
compose gives it (tests/support/deployment.py), against the local PostgreSQL and RabbitMQ: the jobs
first (migrations on an empty database, the diagram), then every long-running service, each
waited for on /readyz. Complaints then travel across the processes, and /metrics shows it.
"""

from __future__ import annotations

import json
import re
import signal
import uuid
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest
import requests
from kombu import Connection
from psycopg import sql

from tests.conftest import _admin, database_url
from tests.integration.conftest import complaint
from tests.support.compose import long_running
from tests.support.deployment import Deployment
from tests.support.processes import stop
from tests.support.waiting import eventually

pytestmark = pytest.mark.e2e


@pytest.fixture
def empty_database():
    """A database with nothing in it: the migrate job builds every schema, as on a first install."""
    name = f"mall_test_{uuid.uuid4().hex[:12]}"
    _admin(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    yield database_url(name)
    _admin(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture
def deployment(tmp_path, empty_database, amqp_url):
    deployment = Deployment(tmp_path, empty_database, amqp_url)
    migrated = deployment.job("migrate")
    assert migrated.returncode == 0, migrated.stderr
    assert re.search(r"^intake: [1-9]\d* migration\(s\) applied$", migrated.stdout, re.M), migrated.stdout
    diagram = deployment.job("deploy-diagram")
    assert diagram.returncode == 0 and "deployed as version 1" in diagram.stdout, diagram.stderr
    deployment.cli("seed")
    deployment.cli("user", "create", "desk", "--role", "service_desk")
    deployment.cli("user", "create", "floor3", "--role", "floor_supervisor", "--floor", "3F")
    yield deployment
    deployment.kill_leftovers()


def bearer(deployment: Deployment, user: str) -> dict:
    return {"Authorization": f"Bearer {deployment.cli('token', 'user', user)}"}


def rows(deployment: Deployment, query: str) -> list[tuple]:
    with psycopg.connect(deployment.services["migrate"].environment["DATABASE_URL"]) as conn:
        return conn.execute(query).fetchall()


def post_complaint(intake: str, headers: dict, correlation: str) -> str:
    """POST a complaint to intake at its URL (its own port, or the gateway's /intake)."""
    response = requests.post(
        f"{intake}/complaints",
        json=complaint(),
        headers={**headers, "X-Correlation-ID": correlation},
        timeout=60,
    )
    assert response.status_code == 201, response.text
    return response.json()["number"]


def start_all(deployment: Deployment) -> list[str]:
    names = long_running(deployment.services)
    for name in names:
        deployment.start(name)
    for name in names:
        deployment.wait_ready(name)
    return names


def test_each_compose_service_runs_as_its_own_process_and_complaints_cross_them_all(deployment):
    names = start_all(deployment)
    assert names == ["intake", "intake-relay", "routing", "routing-worker"]
    gateway = deployment.start_gateway()  # the one entry point, nginx with deploy/gateway/nginx.conf
    desk, floor3 = bearer(deployment, "desk"), bearer(deployment, "floor3")
    tag = uuid.uuid4().hex[:8]
    numbers = [post_complaint(f"{gateway}/intake", desk, f"deploy-{tag}-{n:02d}") for n in range(12)]

    def floor_tasks():
        response = requests.get(f"{gateway}/routing/tasks", headers=floor3, timeout=30)
        found = [item for item in response.json()["items"] if item["number"] in numbers]
        return len(found) == len(numbers) and found

    tasks = eventually(floor_tasks, timeout=120)
    assert {task["element_id"] for task in tasks} == {"handle_floor"}
    done = requests.post(
        f"{gateway}/routing/tasks/{tasks[0]['id']}/complete",
        json={"data": {"outcome": "resolved", "resolution": "商户退还差价"}},
        headers=floor3,
        timeout=60,
    )
    assert done.status_code == 200, done.text

    # /metrics of every process shows the flow: requests, published, consumed, steps, queues.
    assert deployment.metric("intake", "mall_http_request_duration_seconds_count", method="POST",
                             route="/complaints", status="201") == 12  # fmt: skip
    eventually(lambda: deployment.metric("intake-relay", "mall_events_published_total",
                                         type="complaint.received") == 12, timeout=60)  # fmt: skip
    assert deployment.metric("intake-relay", "mall_outbox_backlog", service="intake") == 0
    assert deployment.metric("routing-worker", "mall_events_consumed_total", consumer="routing.complaints",
                             type="complaint.received", outcome="handled") == 12  # fmt: skip
    assert deployment.metric("routing-worker", "mall_routing_engine_step_seconds_count", step="start") == 12
    assert deployment.metric("routing", "mall_routing_engine_step_seconds_count", step="complete") == 1
    assert deployment.metric("routing", "mall_http_request_duration_seconds_count",
                             route="/tasks/<uuid:task_id>/complete", status="200") == 1  # fmt: skip
    eventually(lambda: deployment.metric("routing-worker", "mall_events_published_total", service="routing",
                                         type="task.created") >= 12, timeout=60)  # fmt: skip
    assert deployment.metric("routing", "mall_routing_tasks_open", queue="floor_supervisor") == 11
    assert deployment.metric("routing", "mall_routing_tasks_overdue", queue="floor_supervisor") == 0
    assert deployment.metric("routing", "mall_queue_messages", queue="routing.complaints") == 0
    assert deployment.metric("routing", "mall_queue_consumers", queue="routing.complaints") == 1
    assert deployment.metric("routing", "mall_queue_messages", queue="routing.complaints.dead") == 0
    assert deployment.metric("routing", "mall_collector_up", collector="queues:routing") == 1
    # ... and the API's own port serves the same /metrics
    own = requests.get(f"{deployment.url('intake')}/metrics", timeout=10).text
    assert 'mall_outbox_backlog{service="intake"} 0.0' in own

    for name in ["gateway", *reversed(names)]:
        assert stop(deployment.processes[name]) == 0, deployment.log(name)
    # JSON log lines, one complaint followed by its correlation id from the gateway into routing's worker
    first = f"deploy-{tag}-00"
    assert any(line.get("uri") == "/intake/complaints" for line in json_lines(deployment, "gateway", first))
    assert any(
        line.get("message") == "complaint recorded" for line in json_lines(deployment, "intake", first)
    )
    assert any(
        line.get("message") == "case started" for line in json_lines(deployment, "routing-worker", first)
    )


def test_the_gateway_is_the_one_entry_point_and_keeps_probes_and_metrics_inside(deployment):
    deployment.start("intake")
    deployment.start("routing")
    deployment.wait_ready("intake")
    deployment.wait_ready("routing")
    gateway = deployment.start_gateway()
    liveness = requests.get(deployment.metrics_url("intake").replace("/metrics", "/healthz"), timeout=10)

    index = requests.get(gateway, timeout=10)
    openapi = requests.get(f"{gateway}/routing/openapi.json", timeout=10)
    form = requests.get(f"{gateway}/intake/form", timeout=10)
    anonymous = requests.get(f"{gateway}/intake/complaints", timeout=10)
    hidden = {path: requests.get(f"{gateway}{path}", timeout=10).status_code
              for path in ("/intake/metrics", "/routing/readyz", "/intake/healthz")}  # fmt: skip
    oversized = requests.post(f"{gateway}/intake/public/complaints", data=b"x" * 300_000, timeout=10)

    assert liveness.json()["checks"] == {"http": "ok"}  # the probe port vouches for the API's own
    assert index.json()["services"] == {"intake": "/intake/openapi.json", "routing": "/routing/openapi.json"}
    assert openapi.status_code == 200 and openapi.json()["info"]["title"] == "Routing API"
    assert form.status_code == 200 and "顾客投诉" in form.text
    assert anonymous.status_code == 401 and anonymous.json()["code"] == 401  # the service's own JSON error
    assert re.fullmatch(r"[0-9a-f]{32}", anonymous.headers["X-Correlation-ID"])  # made by the gateway
    assert hidden == {"/intake/metrics": 404, "/routing/readyz": 404, "/intake/healthz": 404}
    assert oversized.status_code == 413 and oversized.json()["code"] == 413
    assert stop(deployment.processes["routing"]) == 0
    gone = requests.get(f"{gateway}/routing/tasks", headers={"X-Correlation-ID": "gone-0001"}, timeout=30)
    assert gone.status_code == 503 and gone.headers["Retry-After"] == "5"
    assert gone.json() == {"code": 503, "status": "Service Unavailable", "correlation_id": "gone-0001",
                           "message": "the service does not answer; try again shortly"}  # fmt: skip
    assert stop(deployment.processes["gateway"]) == 0


def json_lines(deployment: Deployment, name: str, correlation: str) -> list[dict]:
    lines = [json.loads(line) for line in deployment.log(name).splitlines() if line.startswith("{")]
    assert lines, f"{name} wrote no JSON log line"
    return [line for line in lines if line.get("correlation_id") == correlation]


def ready_messages(deployment: Deployment, queue: str) -> int:
    with Connection(deployment.services["routing-worker"].environment["AMQP_URL"]) as connection:
        return connection.default_channel.queue_declare(queue=queue, passive=True).message_count


CASES_WITHOUT_FIRST_TASK = """
SELECT count(*) FROM routing.cases c
 WHERE NOT EXISTS (SELECT 1 FROM routing.tasks t WHERE t.case_id = c.id AND t.element_id = 'handle_floor')
"""


def test_sigterm_in_the_middle_of_a_burst_lets_relay_and_worker_finish_what_they_hold_and_loses_nothing(
    deployment,
):
    start_all(deployment)
    assert stop(deployment.processes["routing-worker"]) == 0  # its queues exist; the burst waits there
    desk = bearer(deployment, "desk")
    burst = 240

    # The burst arrives; the relay is told to stop while it is publishing its first third.
    with ThreadPoolExecutor(max_workers=8) as pool:
        post = lambda n: post_complaint(deployment.url("intake"), desk, f"burst-{n:03d}")  # noqa: E731
        numbers = list(pool.map(post, range(burst // 3)))
        assert stop(deployment.processes["intake-relay"]) == 0, deployment.log("intake-relay")
        numbers += list(pool.map(post, range(burst // 3, burst)))
    assert len(set(numbers)) == burst
    waiting = rows(deployment, "SELECT count(*) FROM intake.outbox WHERE published_at IS NULL")[0][0]
    assert burst - burst // 3 <= waiting < burst  # what came after the relay stopped waits in the outbox

    deployment.start("intake-relay")
    eventually(lambda: ready_messages(deployment, "routing.complaints") == burst, timeout=120)

    # The worker is told to stop while it works through the queue.
    worker = deployment.start("routing-worker")
    eventually(lambda: rows(deployment, "SELECT count(*) FROM routing.cases")[0][0] >= 20, timeout=120,
               interval=0.01)  # fmt: skip
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(timeout=60) == 0
    assert "every worker finished what it held and stopped" in deployment.log("routing-worker")
    started = rows(deployment, "SELECT count(*) FROM routing.cases")[0][0]
    assert 20 <= started < burst  # stopped in the middle
    # What it took, it finished: every case it began has its first task and its inbox row; what it
    # had been handed but not begun went back to the queue.
    assert rows(deployment, CASES_WITHOUT_FIRST_TASK) == [(0,)]
    assert rows(deployment, "SELECT count(*) FROM routing.inbox")[0][0] == started
    assert ready_messages(deployment, "routing.complaints") == burst - started

    deployment.start("routing-worker")
    eventually(lambda: rows(deployment, "SELECT count(*) FROM routing.cases")[0][0] == burst, timeout=180)
    per_case = rows(
        deployment,
        "SELECT count(*) FILTER (WHERE element_id = 'handle_floor') FROM routing.tasks GROUP BY case_id",
    )
    assert len(per_case) == burst and set(per_case) == {(1,)}  # each its first task, once
    assert rows(deployment, CASES_WITHOUT_FIRST_TASK) == [(0,)]
    assert ready_messages(deployment, "routing.complaints.dead") == 0
    assert rows(deployment, "SELECT count(*) FROM intake.outbox WHERE published_at IS NULL") == [(0,)]
    assert {number for (number,) in rows(deployment, "SELECT number FROM routing.cases")} == set(numbers)
    assert (
        deployment.metric("routing-worker", "mall_events_consumed_total", outcome="handled")
        == burst - started
    )
    assert deployment.metric("routing-worker", "mall_events_consumed_total", outcome="duplicate") == 0
