"""Intake, routing and reporting on the real RabbitMQ, each with its relay and consumers running:
a complaint reaches reporting's read model, and retention's request and answers travel the broker."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from services.common.settings import Policy
from services.intake.app import create_app as create_intake_app
from services.reporting.domain.commands import RunRetention
from services.routing.app import create_app as create_routing_app
from services.runner.background import Background
from services.runner.registry import spec
from tests.conftest import bearer
from tests.integration.conftest import complaint
from tests.integration.routing.conftest import routing  # noqa: F401 — the fixture
from tests.integration.routing.test_complaint_diagram import deploy_mall_diagram
from tests.support.mall import Mall, settle_price_complaint_on_the_floor
from tests.support.waiting import eventually


@pytest.fixture
def on_rabbitmq(settings, amqp_url, intake, routing, reporting):  # noqa: F811 — routing is the imported fixture
    services = {"intake": intake, "routing": routing, "reporting": reporting}
    for runtime in services.values():
        runtime.settings = replace(settings, amqp_url=amqp_url)
    deploy_mall_diagram(routing)
    workers = [Background.of(spec(name), runtime).start() for name, runtime in services.items()]
    consumers = [
        worker.consumer
        for background in workers
        for worker in background.workers
        if hasattr(worker, "consumer")
    ]
    assert all(consumer.ready.wait(30) for consumer in consumers)
    yield services
    for background in workers:
        background.stop()


def one(pool, query: str, *params):
    with pool.connection() as conn:
        return conn.execute(query, params).fetchone()


def test_a_closed_case_reaches_reporting_and_its_erasure_reaches_every_service(on_rabbitmq, tokens, clock):
    intake, router, reporting = on_rabbitmq["intake"], on_rabbitmq["routing"], on_rabbitmq["reporting"]

    def staff(role: str, **scope) -> dict:
        return bearer(tokens, role, subject=f"{role}-1", **scope)

    posted = (
        create_intake_app(intake)
        .test_client()
        .post("/complaints", json=complaint(category="price"), headers=staff("service_desk"))
    )
    assert posted.status_code == 201, posted.json
    complaint_id = posted.json["id"]
    routing_api = create_routing_app(router).test_client()
    eventually(
        lambda: (
            routing_api.get(f"/cases/{complaint_id}", headers=staff("operations_manager")).status_code == 200
        ),
        timeout=30,
    )
    driver = Mall(None, routing_api, router, clock, tokens, bearer)
    settle_price_complaint_on_the_floor(driver.case(complaint_id), Policy())
    closed = "SELECT closed_at FROM reporting.cases WHERE complaint_id = %s AND closed_at IS NOT NULL"
    eventually(lambda: one(reporting.pool, closed, complaint_id), timeout=30)

    clock.advance(timedelta(days=731))
    assert [case["complaint_id"] for case in reporting.bus.handle(RunRetention()).cases] == [complaint_id]
    answered = "SELECT count(*) AS n FROM reporting.retention_answers WHERE complaint_id = %s"
    eventually(
        lambda: one(reporting.pool, answered, complaint_id)["n"] == 2, timeout=30
    )  # intake and routing
    customer = one(intake.pool, "SELECT customer FROM intake.complaints WHERE id = %s", complaint_id)[
        "customer"
    ]
    assert (customer["name"], customer["phone"]) == (None, None)
    state = one(router.pool, "SELECT state::text AS text FROM routing.cases WHERE id = %s", complaint_id)[
        "text"
    ]
    assert "13912345678" not in state and "王女士" not in state
