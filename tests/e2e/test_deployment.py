"""The compose file's services as processes: the commands the image runs, outside a container.

Each service of deploy/compose.yaml is started as its own process with the command and environment
compose gives it (tests/support/deployment.py), against the local PostgreSQL and RabbitMQ: the jobs
first (migrations on an empty database, the diagram), then every long-running service, each
waited for on /readyz, then the gateway's nginx with deploy/gateway/nginx.conf in front. Complaints
then travel across the processes through the gateway, the staff console shows them, and /metrics
of every process shows it. tests/e2e/test_deployment_shutdown.py stops workers in a burst.
"""

from __future__ import annotations

import json
import re
import uuid

import pytest
import requests

from tests.e2e.conftest import STAFF_PASSWORD
from tests.integration.conftest import complaint
from tests.support.browser_client import Browser
from tests.support.deployment import ROOT, Deployment
from tests.support.processes import run, stop
from tests.support.waiting import eventually

pytestmark = pytest.mark.e2e

LONG_RUNNING = [
    "intake",
    "intake-worker",
    "routing",
    "routing-worker",
    "notify",
    "notify-worker",
    "reporting",
    "reporting-worker",
    "console",
]
COMPLAINTS = 12


def customer(n: int, tag: str) -> dict:
    """Even customers want e-mail, odd ones SMS; each has addresses of their own (notify's
    per-recipient rate limit would hold back a sixth message to one address)."""
    return {
        "name": "王女士",
        "phone": f"1391{n:07d}",
        "email": f"customer-{tag}-{n}@example.com",
        "preferred_reply_channel": "email" if n % 2 == 0 else "sms",
    }


def post_complaint(intake: str, headers: dict, correlation: str, body: dict | None = None) -> dict:
    """POST a complaint to intake at its URL (its own port, or the gateway's /intake)."""
    response = requests.post(
        f"{intake}/complaints",
        json=body or complaint(),
        headers={**headers, "X-Correlation-ID": correlation},
        timeout=60,
    )
    assert response.status_code == 201, response.text
    return response.json()


def test_every_long_running_compose_service_is_a_process_of_its_own_and_complaints_cross_them_all(
    deployment, mail_server
):
    assert deployment.start_long_running() == LONG_RUNNING
    gateway = deployment.start_gateway()  # the one entry point, nginx with deploy/gateway/nginx.conf
    desk, floor3, ops = (deployment.bearer(user) for user in ("desk", "floor3", "ops"))
    tag = uuid.uuid4().hex[:8]
    recorded = [
        post_complaint(
            f"{gateway}/intake", desk, f"deploy-{tag}-{n:02d}", complaint(customer=customer(n, tag))
        )
        for n in range(COMPLAINTS)
    ]
    numbers = [item["number"] for item in recorded]

    # routing's worker started each case: its first task waits in the floor supervisor's queue
    def floor_tasks():
        response = requests.get(f"{gateway}/routing/tasks", headers=floor3, timeout=30)
        found = [item for item in response.json()["items"] if item["number"] in numbers]
        return len(found) == len(numbers) and found

    tasks = eventually(floor_tasks, timeout=180)
    assert {task["element_id"] for task in tasks} == {"handle_floor"}
    done = requests.post(
        f"{gateway}/routing/tasks/{tasks[0]['id']}/complete",
        headers=floor3,
        timeout=60,
        json={"data": {"outcome": "resolved", "resolution": "商户退还差价"}},
    )
    assert done.status_code == 200, done.text
    # intake's worker learnt from routing's task events who holds each case: its handler sees the customer
    holding = tasks[1]["case_id"]
    eventually(
        lambda: (
            not requests.get(f"{gateway}/intake/complaints/{holding}", headers=floor3, timeout=30).json()[
                "customer"
            ]["masked"]
        ),
        timeout=60,
    )

    # notify's worker acknowledged every complaint on the customer's channel: e-mail through the
    # mall's mail server, SMS kept as files (no SMS gateway is set in .env.example)
    by_mail = {n: customer(n, tag)["email"] for n in range(0, COMPLAINTS, 2)}
    eventually(lambda: all(mail_server.to(address) for address in by_mail.values()), timeout=120)
    for n, address in by_mail.items():
        [mail] = mail_server.to(address)
        assert numbers[n] in mail.message["Subject"] and numbers[n] in mail.text
    texts = eventually(lambda: sms_texts(deployment, COMPLAINTS // 2), timeout=120)
    for n in range(1, COMPLAINTS, 2):
        [text] = texts[customer(n, tag)["phone"]]
        assert numbers[n] in text
    log = requests.get(
        f"{gateway}/notify/complaints/{recorded[0]['id']}/deliveries", headers=desk, timeout=30
    )
    assert log.status_code == 200, log.text
    assert "acknowledgement" in {request["kind"] for request in log.json()["requests"]}

    # reporting's worker projected every complaint: the operations manager's daily review lists them
    def reviewed():
        answer = requests.get(f"{gateway}/reporting/reviews/daily", headers=ops, timeout=30)
        if answer.status_code != 200:  # a loaded machine may keep the gateway waiting past its limit
            return None
        review = answer.json()
        listed = {item["number"] for item in review["new"]["items"]}
        return set(numbers) <= listed and review

    assert eventually(reviewed, timeout=120)["new"]["count"] == COMPLAINTS

    # the staff console, behind the gateway: the desk logs in and sees its queue (the merchant calls)
    browser = Browser(f"{gateway}/console")
    assert browser.get("/login").status_code == 200
    logged_in = browser.log_in("desk", STAFF_PASSWORD)
    assert logged_in.status_code == 302 and logged_in.headers["Location"] == "/console/queue"
    queue = browser.get("/queue")
    assert queue.status_code == 200, queue.text
    assert set(re.findall(r'data-number="([^"]+)" data-element="merchant_call"', queue.text)) >= set(numbers)

    assert_every_process_counted_it(deployment, numbers)
    for name in ["gateway", *reversed(LONG_RUNNING)]:
        assert stop(deployment.processes[name]) == 0, deployment.log(name)
    assert_one_complaint_is_followed_through_the_logs(deployment, f"deploy-{tag}-00")
    # the books of every service agree, as the compose file's cli service audits them
    audit = run(["audit", "--settle-seconds", "0", "--outbox-seconds", "0"], deployment.env("cli"), cwd=ROOT)
    assert audit.returncode == 0, audit.stdout + audit.stderr
    assert f"{COMPLAINTS} complaints, {COMPLAINTS} cases" in audit.stdout


def sms_texts(deployment: Deployment, at_least: int) -> dict[str, list[str]] | None:
    """The SMS notify-worker kept as files, by phone; None until there are `at_least` of them."""
    folder = deployment.data_dir("notify-worker") / "outbox" / "sms"
    texts: dict[str, list[str]] = {}
    for path in sorted(folder.glob("*.json")):
        kept = json.loads(path.read_text(encoding="utf-8"))
        texts.setdefault(kept["phone"], []).append(kept["text"])
    return texts if sum(map(len, texts.values())) >= at_least else None


def assert_every_process_counted_it(deployment: Deployment, numbers: list[str]) -> None:
    """/metrics of every process shows the flow: requests, events, steps, deliveries, queues."""
    count, metric = len(numbers), deployment.metric
    assert (
        metric(
            "intake",
            "mall_http_request_duration_seconds_count",
            method="POST",
            route="/complaints",
            status="201",
        )
        == count
    )
    # The API's own relay publishes what it wrote (the worker's, polling as a safety net, may take one).
    eventually(
        lambda: (
            sum(
                metric(process, "mall_events_published_total", type="complaint.received")
                for process in ("intake", "intake-worker")
            )
            == count
        ),
        timeout=60,
    )
    assert metric("intake", "mall_events_published_total", type="complaint.received") > 0
    assert metric("intake-worker", "mall_outbox_backlog", service="intake") == 0
    assert (
        metric(
            "intake-worker",
            "mall_events_consumed_total",
            consumer="intake.events",
            type="task.created",
            outcome="handled",
        )
        >= count
    )
    assert metric("intake-worker", "mall_queue_messages", queue="intake.events.dead") == 0
    assert (
        metric(
            "routing-worker",
            "mall_events_consumed_total",
            consumer="routing.complaints",
            type="complaint.received",
            outcome="handled",
        )
        == count
    )
    assert metric("routing-worker", "mall_routing_engine_step_seconds_count", step="start") == count
    assert metric("routing", "mall_routing_engine_step_seconds_count", step="complete") == 1
    assert (
        metric(
            "routing",
            "mall_http_request_duration_seconds_count",
            route="/tasks/<uuid:task_id>/complete",
            status="200",
        )
        == 1
    )
    # Published once, by whichever relay took the rows first: the worker's, or the API's when a
    # commit of its own woke it while the worker's rows waited (a loaded machine)
    eventually(
        lambda: (
            sum(
                metric(process, "mall_events_published_total", service="routing", type="task.created")
                for process in ("routing-worker", "routing")
            )
            >= count
        ),
        timeout=60,
    )
    assert metric("routing", "mall_routing_tasks_open", queue="floor_supervisor") == count - 1
    assert metric("routing", "mall_routing_tasks_overdue", queue="floor_supervisor") == 0
    assert metric("routing", "mall_queue_consumers", queue="routing.complaints") == 1
    assert metric("routing", "mall_collector_up", collector="queues:routing") == 1
    assert_notify_counted_it(deployment, count)
    assert_reporting_counted_it(deployment, count)
    assert metric("console", "mall_console_logins_total", outcome="success") == 1
    assert metric("console", "mall_console_sessions_open") == 1
    assert metric("console", "mall_http_request_duration_seconds_count", route="/queue", status="200") == 1
    # ... and an API's own port serves the same /metrics as its probe port
    own = requests.get(f"{deployment.url('intake')}/metrics", timeout=10).text
    assert 'mall_outbox_backlog{service="intake"} 0.0' in own


def assert_notify_counted_it(deployment: Deployment, count: int) -> None:
    metric = deployment.metric
    assert (
        metric(
            "notify-worker",
            "mall_events_consumed_total",
            consumer="notify.events",
            type="complaint.received",
            outcome="handled",
        )
        == count
    )
    assert (
        metric(
            "notify-worker",
            "mall_events_consumed_total",
            consumer="notify.events",
            type="notification.requested",
            outcome="handled",
        )
        >= count
    )
    assert (
        metric("notify-worker", "mall_notify_delivery_attempts_total", channel="email", outcome="sent")
        == count // 2
    )
    assert (
        metric("notify-worker", "mall_notify_delivery_attempts_total", channel="sms", outcome="sent")
        >= count // 2
    )
    for process in ("notify", "notify-worker"):  # read at scrape time: every process says the same
        eventually(lambda process=process: metric(process, "mall_notify_deliveries_due") == 0, timeout=60)
        assert metric(process, "mall_notify_deliveries", state="failed") == 0
        assert metric(process, "mall_notify_deliveries", channel="email", state="pending") == 0
        assert metric(process, "mall_notify_delivery_lag_seconds", channel="email") == 0
        assert metric(process, "mall_collector_up", collector="notify") == 1
    assert metric("notify", "mall_queue_messages", queue="notify.events.dead") == 0
    assert (
        metric(
            "notify",
            "mall_http_request_duration_seconds_count",
            route="/complaints/<uuid:complaint_id>/deliveries",
            status="200",
        )
        == 1
    )


def assert_reporting_counted_it(deployment: Deployment, count: int) -> None:
    metric = deployment.metric
    assert (
        metric(
            "reporting-worker",
            "mall_events_consumed_total",
            consumer="reporting.events",
            type="complaint.received",
            outcome="handled",
        )
        == count
    )
    assert metric("reporting-worker", "mall_reporting_retention_runs_total", outcome="nothing_due") == 1
    for process in ("reporting", "reporting-worker"):
        assert 0 <= metric(process, "mall_reporting_projection_lag_seconds") < 300
        assert metric(process, "mall_reporting_retention_due_cases") == 0
        assert metric(process, "mall_reporting_retention_unanswered", service="intake") == 0
        assert metric(process, "mall_collector_up", collector="reporting") == 1
    assert metric("reporting", "mall_queue_consumers", queue="reporting.events") == 1
    assert (
        metric("reporting", "mall_http_request_duration_seconds_count", route="/reviews/daily", status="200")
        >= 1
    )


def assert_one_complaint_is_followed_through_the_logs(deployment: Deployment, correlation: str) -> None:
    """JSON log lines: one complaint followed by its correlation id from the gateway into routing's worker."""
    assert any(
        line.get("uri") == "/intake/complaints" for line in json_lines(deployment, "gateway", correlation)
    )
    assert any(
        line.get("message") == "complaint recorded" for line in json_lines(deployment, "intake", correlation)
    )
    assert any(
        line.get("message") == "case started"
        for line in json_lines(deployment, "routing-worker", correlation)
    )


def json_lines(deployment: Deployment, name: str, correlation: str) -> list[dict]:
    lines = [json.loads(line) for line in deployment.log(name).splitlines() if line.startswith("{")]
    assert lines, f"{name} wrote no JSON log line"
    return [line for line in lines if line.get("correlation_id") == correlation]


def start_apis(deployment: Deployment, *names: str) -> str:
    for name in names:
        deployment.start(name)
    for name in names:
        deployment.wait_ready(name)
    return deployment.start_gateway()


def test_the_gateway_is_the_one_entry_point_and_keeps_probes_and_metrics_inside(deployment):
    gateway = start_apis(deployment, "intake", "routing")
    liveness = requests.get(deployment.metrics_url("intake").replace("/metrics", "/healthz"), timeout=10)

    index = requests.get(f"{gateway}/gateway/services", timeout=10)
    openapi = requests.get(f"{gateway}/routing/openapi.json", timeout=10)
    form = requests.get(f"{gateway}/intake/form", timeout=10)
    anonymous = requests.get(f"{gateway}/intake/complaints", timeout=10)
    hidden = {
        path: requests.get(f"{gateway}{path}", timeout=10).status_code
        for path in ("/intake/metrics", "/routing/readyz", "/intake/healthz", "/console/metrics")
    }
    oversized = requests.post(f"{gateway}/intake/public/complaints", data=b"x" * 300_000, timeout=10)
    # A diagram may be as large as routing takes (4 MB): the gateway lets it through to routing,
    # whose own answer (no token: 401) comes back; over 4 MB the gateway refuses it itself.
    json_body = {"Content-Type": "application/json"}
    diagram = requests.post(
        f"{gateway}/routing/processes", data=b"x" * 1_000_000, headers=json_body, timeout=10
    )
    too_large = requests.post(
        f"{gateway}/routing/processes", data=b"x" * 5_000_000, headers=json_body, timeout=10
    )

    # the probe port vouches for the API's own port, and for its outbox relay's thread
    assert liveness.json()["checks"] == {"http": "ok", "outbox-relay-intake": "ok"}
    assert set(index.json()["services"]) == {"intake", "routing", "notify", "reporting", "console"}
    assert openapi.status_code == 200 and openapi.json()["info"]["title"] == "Routing API"
    assert form.status_code == 200 and "顾客投诉" in form.text
    assert anonymous.status_code == 401 and anonymous.json()["code"] == 401  # the service's own JSON error
    assert re.fullmatch(r"[0-9a-f]{32}", anonymous.headers["X-Correlation-ID"])  # made by the gateway
    assert hidden == dict.fromkeys(hidden, 404)
    assert oversized.status_code == 413 and oversized.json()["code"] == 413
    assert diagram.status_code == 401 and diagram.json()["code"] == 401
    assert too_large.status_code == 413 and too_large.json()["code"] == 413
    assert stop(deployment.processes["routing"]) == 0
    gone = requests.get(f"{gateway}/routing/tasks", headers={"X-Correlation-ID": "gone-0001"}, timeout=30)
    assert gone.status_code == 503 and gone.headers["Retry-After"] == "5"
    assert gone.json() == {
        "code": 503,
        "status": "Service Unavailable",
        "correlation_id": "gone-0001",
        "message": "the service does not answer; try again shortly",
    }
    assert stop(deployment.processes["gateway"]) == 0


def test_the_console_behind_the_gateway_keeps_its_prefix_its_secure_session_and_each_clients_login_limit(
    deployment,
):
    gateway = start_apis(deployment, "console")
    browser = Browser(f"{gateway}/console")

    home = requests.get(gateway, allow_redirects=False, timeout=10)
    first = browser.get("/", allow_redirects=False)
    queue = browser.get("/queue", allow_redirects=False)
    login = browser.get("/login")
    bundle = browser.get("/vendor/bpmn-js/bpmn-navigated-viewer.production.min.js")
    # The modeler's deploy may carry a diagram of up to 4 MB: the gateway lets it through to the
    # console, which answers itself (no CSRF token: 400, as JSON for a JSON request).
    deploy = requests.post(
        f"{gateway}/console/processes/deploy",
        data=b"x" * 1_000_000,
        headers={"Content-Type": "application/json"},
        timeout=10,
    )

    assert home.status_code == 302 and home.headers["Location"].endswith("/console/")  # the mall's address
    assert first.status_code == 302 and first.headers["Location"] == "/console/login"  # links keep the prefix
    assert queue.status_code == 302 and queue.headers["Location"].startswith("/console/login?next=")
    assert login.status_code == 200 and 'action="/console/login"' in login.text
    assert 'href="/console/assets/console.css' in login.text
    assert deploy.status_code == 400 and deploy.json()["code"] == 400
    assert bundle.status_code == 200 and "javascript" in bundle.headers["Content-Type"]  # bpmn-js from npm
    cookie = login.headers["Set-Cookie"]  # the session that holds the form's CSRF token
    assert cookie.startswith("__Host-console=")
    assert {"Secure", "HttpOnly", "Path=/", "SameSite=Lax"} <= {part.strip() for part in cookie.split(";")}

    # The login rate limit (10 a minute in .env.example) counts per client address, as the gateway
    # saw it: one client's guesses do not lock the others out, and a forged X-Forwarded-For is no way out.
    guesser, colleague = (
        Browser(f"{gateway}/console", "127.0.0.2"),
        Browser(f"{gateway}/console", "127.0.0.3"),
    )
    answers = [guesser.log_in("nobody", "guess").status_code for _ in range(11)]
    guesser.session.headers["X-Forwarded-For"] = "203.0.113.9"
    forged = guesser.log_in("nobody", "guess")
    assert answers == [401] * 10 + [429]
    assert forged.status_code == 429
    assert colleague.log_in("nobody", "guess").status_code == 401
    assert colleague.log_in("desk", STAFF_PASSWORD).status_code == 302
    assert stop(deployment.processes["gateway"]) == 0
    assert stop(deployment.processes["console"]) == 0
