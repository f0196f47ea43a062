"""Notify on the real RabbitMQ: its consumer, its relay and its delivery workers running as the
serving process runs them, and a complaint POSTed to intake followed to the customer's phone and
mailbox through routing and the complaint diagram."""

from __future__ import annotations

import logging
from dataclasses import replace

import pytest
from kombu import Connection, Producer, Queue

from services.common.bus.envelope import dump_envelope
from services.common.bus.topology import EVENTS_EXCHANGE
from services.intake.app import create_app as create_intake_app
from services.intake.bootstrap import bootstrap as bootstrap_intake
from services.intake.seed import load_reference
from services.notify.bootstrap import bootstrap
from services.routing.bootstrap import bootstrap as bootstrap_routing
from services.runner.background import Background
from services.runner.registry import ConsumerWorker
from tests.conftest import bearer
from tests.integration.conftest import complaint
from tests.integration.notify.conftest import complaint_received, requested
from tests.integration.routing.test_complaint_diagram import deploy_mall_diagram
from tests.support.waiting import eventually


@pytest.fixture
def on_rabbitmq(notify_settings, amqp_url):
    return replace(notify_settings, amqp_url=amqp_url)


@pytest.fixture
def running(on_rabbitmq, clock, notify):
    """Notify's consumer, relay and one delivery worker in threads, on RabbitMQ."""
    runtime = bootstrap(on_rabbitmq, notify.pool, clock)
    consumer = runtime.consumer()
    workers = Background([runtime.relay(), ConsumerWorker(consumer), runtime.worker()]).start()
    eventually(consumer.ready.is_set, timeout=30)
    yield runtime
    workers.stop()


def publish(amqp_url: str, *envelopes) -> None:
    with Connection(amqp_url) as connection:
        producer = Producer(connection.default_channel, exchange=EVENTS_EXCHANGE)
        for envelope in envelopes:
            producer.publish(
                dump_envelope(envelope),
                routing_key=envelope.type,
                serializer="json",
                message_id=envelope.id,
                declare=[EVENTS_EXCHANGE],
            )


def test_a_request_the_broker_delivers_twice_is_one_message(running, amqp_url, mail, caplog):
    received = complaint_received(customer={"email": "wang@example.com", "preferred_reply_channel": "email"})
    request = requested(received.complaint_id)
    caplog.set_level(logging.INFO, logger="services.common.bus.consumer")

    publish(amqp_url, received, request, request)

    eventually(lambda: "duplicate message ignored" in caplog.text, timeout=30)  # the second copy, consumed

    def states() -> list[str]:
        with running.uow() as uow:
            return [
                row["state"] for row in uow.conn.execute("SELECT state FROM notify.deliveries").fetchall()
            ]

    eventually(lambda: states() == ["sent"], timeout=30)
    assert len(mail.to("wang@example.com")) == 1


def test_a_bounce_is_announced_on_the_broker_for_the_desk_and_reporting(running, amqp_url, mail):
    with Connection(amqp_url) as connection:  # whoever listens for failed messages
        listener = Queue("failures", exchange=EVENTS_EXCHANGE, routing_key="notification.failed")
        listener(connection.default_channel).declare()
    mail.refuse("wang@example.com", "550 5.1.1 <wang@example.com>: mailbox unavailable")
    received = complaint_received(customer={"email": "wang@example.com", "preferred_reply_channel": "email"})

    publish(amqp_url, received, requested(received.complaint_id, "reply", reply_text="已退款"))

    with Connection(amqp_url) as connection:
        message = eventually(lambda: listener(connection.default_channel).get(no_ack=True), timeout=30)
    payload = message.payload["payload"]
    assert (payload["kind"], payload["reason"], payload["channel"]) == ("reply", "permanent_error", "email")
    assert message.payload["complaint_id"] == received.complaint_id
    assert "wang@example.com" not in str(message.payload)


def test_a_complaint_posted_to_intake_reaches_the_customer_in_chinese_with_its_number(
    on_rabbitmq, clock, tokens, running, mail, gateway
):
    """intake's POST → its outbox relay → RabbitMQ → routing starts the diagram → its relay →
    notification.requested → notify plans and sends the acknowledgement."""
    intake = bootstrap_intake(on_rabbitmq, running.pool, clock)
    routing = bootstrap_routing(on_rabbitmq, running.pool, clock)
    load_reference(intake.pool, "demo")
    deploy_mall_diagram(routing)
    routing_consumer = routing.consumer()
    workers = Background([intake.relay(), routing.relay(), ConsumerWorker(routing_consumer)]).start()
    try:
        eventually(routing_consumer.ready.is_set, timeout=30)
        client = create_intake_app(intake).test_client()
        desk = bearer(tokens, "service_desk", subject="desk")
        by_phone = client.post("/complaints", json=complaint(), headers=desk).json
        by_email = client.post(
            "/complaints",
            headers=desk,
            json=complaint(
                channel="email", customer={"name": "李先生", "email": "li@example.com", "language": "zh-CN"}
            ),
        ).json

        [sms] = eventually(lambda: gateway.received, timeout=60)
        [mail_message] = eventually(lambda: mail.to("li@example.com"), timeout=60)
    finally:
        workers.stop()

    assert sms.json["phone"] == "13912345678"
    assert by_phone["number"] in sms.json["content"] and "您的投诉已受理" in sms.json["content"]
    assert sms.json["params"]["number"] == by_phone["number"]
    assert (
        mail_message.message["Subject"] == f"【星河广场购物中心】您的投诉已受理（编号 {by_email['number']}）"
    )
    assert "尊敬的李先生：" in mail_message.text and by_email["number"] in mail_message.text
