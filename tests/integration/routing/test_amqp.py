"""Routing on the real RabbitMQ: complaints in, department task queues out."""

from __future__ import annotations

from dataclasses import replace

import pytest
from kombu import Connection

from services.background import Background
from services.common.bus.topology import task_queue
from services.intake.app import create_app as create_intake_app
from services.registry import spec
from tests.integration.conftest import complaint
from tests.integration.routing.conftest import deploy, open_tasks
from tests.support.waiting import eventually


@pytest.fixture
def on_rabbitmq(settings, amqp_url, routing, intake):
    """Intake and routing with their relays, consumers and scheduler running on the test vhost."""
    routing.settings = intake.settings = replace(settings, amqp_url=amqp_url)
    deploy(routing)
    workers = [
        Background.of(spec("intake"), intake).start(),
        Background.of(spec("routing"), routing).start(),
    ]
    yield routing, intake
    for background in workers:
        background.stop()


def test_a_complaint_posted_to_intake_becomes_a_case_with_a_task_in_the_departments_queue(
    on_rabbitmq, desk, amqp_url
):
    routing, intake = on_rabbitmq
    client = create_intake_app(intake).test_client()

    record = client.post("/complaints", json=complaint(), headers=desk).json

    eventually(lambda: open_tasks(routing, record["id"]) == ["handle_floor"], timeout=30)
    with Connection(amqp_url) as connection:
        queue = task_queue("floor_supervisor")(connection.default_channel)
        message = eventually(lambda: queue.get(no_ack=True), timeout=30)
        assert queue.get(no_ack=True) is None  # one task, one message
    assert message.delivery_info["routing_key"] == "task.created.floor_supervisor"
    assert message.payload["type"] == "task.created"
    assert message.payload["payload"]["number"] == record["number"]
    assert message.payload["payload"]["element_id"] == "handle_floor"
    assert message.payload["complaint_id"] == record["id"]
