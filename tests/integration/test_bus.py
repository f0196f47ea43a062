"""The message bus against the real RabbitMQ: outbox relay, idempotent consumers, dead letters."""

from __future__ import annotations

import json
import uuid
from urllib.parse import urlsplit

import psycopg
import pytest
from kombu import Connection, Queue
from prometheus_client import REGISTRY

from services.common.bus.confirms import Refused
from services.common.bus.outbox import OutboxRelay
from services.common.bus.topology import EVENTS_EXCHANGE, consumer_queues
from services.common.observability.collectors import OutboxBacklog, QueueDepth
from services.common.observability.exposition import render
from services.common.polling import run_in_thread
from tests.integration.conftest import complaint
from tests.support.consumers import dead_letters, envelope, publish, record_effect
from tests.support.deployment import sample
from tests.support.servers import host_port, proxied, rabbitmqctl
from tests.support.tcp_proxy import TcpProxy
from tests.support.waiting import eventually


def test_a_complaint_posted_while_rabbitmq_is_unreachable_is_published_once_it_is_back(
    client, desk, intake, amqp_url, effects, start_consumer, caplog
):
    start_consumer(record_effect)
    proxy = TcpProxy(*host_port(amqp_url))  # not up yet: the broker cannot be reached
    relay = OutboxRelay(intake.pool, "intake", proxied(amqp_url, proxy.port), idle_wait=0.1)
    run_in_thread(relay)
    try:
        number = client.post("/complaints", json=complaint(), headers=desk).json["number"]
        eventually(lambda: "outbox relay waiting" in caplog.text)  # it tried, and could not publish
        assert relay.backlog()[0] == 1
        assert effects() == []

        proxy.up()

        eventually(lambda: effects(), timeout=30)
        eventually(lambda: relay.backlog()[0] == 0)
    finally:
        relay.stop()
        proxy.down()
    [delivered] = effects()
    assert delivered["number"] == number


def test_a_relay_the_broker_refuses_for_a_while_waits_and_publishes_once_let_in_again(
    client, desk, intake, amqp_url, effects, start_consumer, caplog
):
    """NOT_ALLOWED while the vhost's permissions are changed: py-amqp raises it as it is, which
    once ended the relay's thread for good (its events stayed in the outbox until a restart)."""
    start_consumer(record_effect)
    vhost, user = urlsplit(amqp_url).path.lstrip("/"), urlsplit(amqp_url).username
    rabbitmqctl("clear_permissions", "-p", vhost, user)
    relay = OutboxRelay(intake.pool, "intake", amqp_url, idle_wait=0.1)
    thread = run_in_thread(relay)
    try:
        number = client.post("/complaints", json=complaint(), headers=desk).json["number"]
        eventually(lambda: "outbox relay waiting" in caplog.text and "NOT_ALLOWED" in caplog.text)
        assert thread.is_alive() and not relay.is_ready() and relay.backlog()[0] == 1

        rabbitmqctl("set_permissions", "-p", vhost, user, ".*", ".*", ".*")

        eventually(lambda: effects(), timeout=30)
        assert relay.is_ready() and relay.backlog()[0] == 0
    finally:
        relay.stop()
    [delivered] = effects()
    assert delivered["number"] == number


def test_a_consumer_whose_connection_is_refused_is_not_ready_until_it_consumes_again(
    intake, amqp_url, start_consumer
):
    consumer = start_consumer(record_effect)
    vhost, user = urlsplit(amqp_url).path.lstrip("/"), urlsplit(amqp_url).username
    rabbitmqctl("clear_permissions", "-p", vhost, user)
    rabbitmqctl("close_all_connections", "-p", vhost, "permissions changed")

    eventually(lambda: not consumer.ready.is_set(), timeout=30)
    rabbitmqctl("set_permissions", "-p", vhost, user, ".*", ".*", ".*")

    eventually(consumer.ready.is_set, timeout=30)


def test_a_relay_of_another_process_is_woken_by_the_writers_notify_though_it_polls_once_a_minute(
    client, desk, intake, amqp_url, effects, start_consumer
):
    start_consumer(record_effect)
    relay = OutboxRelay(intake.pool, "intake", amqp_url, listen=True, listening_wait=60)
    run_in_thread(relay)
    try:
        eventually(lambda: relay.listener.listening.is_set() and relay.backlog()[0] == 0)
        number = client.post("/complaints", json=complaint(), headers=desk).json["number"]
        eventually(lambda: effects(), timeout=10)  # long before the next poll
    finally:
        relay.stop()
    [delivered] = effects()
    assert delivered["number"] == number


def test_a_writer_whose_relay_runs_in_its_own_process_sends_no_notify(client, desk, intake):
    with psycopg.connect(intake.pool.conninfo, autocommit=True) as listener:
        listener.execute("LISTEN outbox_intake")
        client.post("/complaints", json=complaint(), headers=desk)
        [woken] = listener.notifies(timeout=10, stop_after=1)  # a relay elsewhere is woken
        assert woken.channel == "outbox_intake"

        intake.relay()  # built here: the relay is woken in-process
        try:
            client.post("/complaints", json=complaint(), headers=desk)
            listener.execute("NOTIFY outbox_intake, 'marker'")
            [first] = listener.notifies(timeout=10, stop_after=1)
        finally:
            intake.outbox.relay_here = False
    assert first.payload == "marker"  # the complaint committed before it sent none


def test_an_event_published_twice_by_a_relay_that_died_before_marking_it_is_applied_once(
    client, desk, intake, amqp_url, effects, start_consumer
):
    consumer = start_consumer(record_effect)
    client.post("/complaints", json=complaint(), headers=desk)
    relay = OutboxRelay(intake.pool, "intake", amqp_url)
    with Connection(amqp_url) as connection:
        assert relay.relay_once(connection) == 1
        with intake.pool.connection() as conn:  # as if the relay died before its commit
            conn.execute("UPDATE intake.outbox SET published_at = NULL")
        assert relay.relay_once(connection) == 1

    eventually(lambda: len(consumer.outcomes) == 2)
    assert [applied for _, applied in consumer.outcomes] == [True, False]
    assert len(effects()) == 1


def outbox_rows(intake, count: int) -> list[str]:
    """`count` events in intake's outbox, a millisecond apart (the relay takes the oldest first)."""
    ids = [str(uuid.uuid4()) for _ in range(count)]
    with intake.pool.connection() as conn:
        for place, event_id in enumerate(ids):
            conn.execute(
                "INSERT INTO intake.outbox (id, routing_key, envelope, created_at)"
                " VALUES (%s, 'test.event', %s, now() + %s * interval '1 ms')",
                (event_id, json.dumps(envelope(message_id=event_id)), place),
            )
    return ids


def test_a_batch_the_broker_refuses_in_part_is_marked_sent_only_where_confirmed_the_rest_sent_later(
    intake, amqp_url
):
    # A queue that holds one message and makes the broker refuse (basic.nack) any beyond it.
    full = Queue(
        "test.full",
        EVENTS_EXCHANGE,
        routing_key="test.#",
        queue_arguments={"x-max-length": 1, "x-overflow": "reject-publish"},
    )
    first, *others = outbox_rows(intake, 3)
    relay = OutboxRelay(intake.pool, "intake", amqp_url)
    with Connection(amqp_url) as connection:
        full(connection.default_channel).declare()
        with pytest.raises(Refused, match="refused 2 of 3 events"):
            relay.relay_once(connection)
        with intake.pool.connection() as conn:
            unsent = conn.execute(
                "SELECT id::text, attempts, last_error FROM intake.outbox WHERE published_at IS NULL"
            ).fetchall()
        kept = full(connection.default_channel).get(no_ack=True)
        full(connection.default_channel).delete()

        assert relay.relay_once(connection) == 2  # routed nowhere now, and confirmed

    assert kept.properties["message_id"] == first
    assert sorted(row["id"] for row in unsent) == sorted(others)
    assert {(row["attempts"], row["last_error"]) for row in unsent} == {
        (1, "the broker refused 2 of 3 events")
    }
    assert relay.backlog()[0] == 0


def test_a_relayed_event_is_its_stored_text_persistent_with_its_id_correlation_and_type(intake, amqp_url):
    (event_id,) = outbox_rows(intake, 1)
    with intake.pool.connection() as conn:
        stored = conn.execute("SELECT envelope::text AS text FROM intake.outbox").fetchone()["text"]
    queue = Queue("test.relayed", EVENTS_EXCHANGE, routing_key="test.#")
    with Connection(amqp_url) as connection:
        queue(connection.default_channel).declare()
        assert OutboxRelay(intake.pool, "intake", amqp_url).relay_once(connection) == 1
        got = eventually(lambda: queue(connection.default_channel).get(no_ack=True))
        queue(connection.default_channel).delete()

    assert got.body == stored  # decoded by its content encoding
    assert (got.content_type, got.content_encoding) == ("application/json", "utf-8")
    assert got.delivery_info["routing_key"] == "test.event"
    assert got.properties["delivery_mode"] == 2  # kept on disk by the broker
    assert got.properties["message_id"] == event_id
    assert got.properties["type"] == "test.event"
    assert got.properties["correlation_id"] == json.loads(stored)["correlation_id"]


def test_the_same_message_delivered_twice_is_applied_once(amqp_url, effects, start_consumer):
    consumer = start_consumer(record_effect)
    message = envelope(number="TS-1")

    publish(amqp_url, message)
    publish(amqp_url, message)

    eventually(lambda: len(consumer.outcomes) == 2)
    assert consumer.outcomes == [(message["id"], True), (message["id"], False)]
    assert effects() == [{"message_id": message["id"], "number": "TS-1"}]


def test_a_handler_that_fails_once_is_retried_and_applied_once(amqp_url, effects, start_consumer):
    failures = []

    def flaky(conn, event):
        if not failures:
            failures.append(event.id)
            raise RuntimeError("first attempt fails")
        record_effect(conn, event)

    consumer = start_consumer(flaky)
    publish(amqp_url, envelope(number="TS-2"))

    eventually(lambda: effects())
    assert len(failures) == 1 and len(effects()) == 1
    assert [applied for _, applied in consumer.outcomes] == [True]
    assert dead_letters(amqp_url) == []


def test_a_message_that_always_fails_ends_in_the_dead_letter_queue_with_its_error(
    amqp_url, effects, start_consumer
):
    attempts = []

    def always_fails(conn, event):
        record_effect(conn, event)  # rolled back with the failure
        attempts.append(event.id)
        raise ValueError("merchant M-404 does not exist")

    start_consumer(always_fails, max_retries=2)
    message = envelope(number="TS-3")
    publish(amqp_url, message)

    [dead] = eventually(lambda: dead_letters(amqp_url))
    assert len(attempts) == 3  # the first delivery and two retries
    assert dead.headers["x-retries"] == 2
    assert "merchant M-404 does not exist" in dead.headers["x-error"]
    assert dead.headers["x-error-type"] == "ValueError"
    assert dead.headers["x-failed-queue"] == "test.effects"
    assert json.loads(dead.body)["id"] == message["id"]
    assert effects() == []


def test_a_malformed_message_goes_to_the_dead_letter_queue_at_once(amqp_url, effects, start_consumer):
    start_consumer(record_effect)

    publish(amqp_url, {"hello": "world"})
    publish(amqp_url, "plain text", content_type="text/plain", content_encoding="utf-8")

    dead = eventually(lambda: len(found := dead_letters(amqp_url)) == 2 and found)
    kinds = sorted(message.headers["x-error-type"] for message in dead)
    assert kinds == ["ContentDisallowed", "ValidationError"]
    assert all("x-retries" not in message.headers for message in dead)
    assert effects() == []


def test_json_nested_too_deep_for_the_parser_is_dead_lettered_at_once_saying_so(
    amqp_url, effects, start_consumer
):
    start_consumer(record_effect)

    publish(
        amqp_url,
        b'{"a":' * 5000 + b"1" + b"}" * 5000,
        content_type="application/json",
        content_encoding="utf-8",
    )

    [dead] = eventually(lambda: dead_letters(amqp_url))
    assert dead.headers["x-error"] == (
        "cannot decode message: JSON nested too deep for the parser (about a thousand levels or more)"
    )
    assert "x-retries" not in dead.headers and effects() == []


def consumed(outcome: str, event_type: str = "test.event", consumer: str = "test.effects") -> float:
    labels = {"consumer": consumer, "type": event_type, "outcome": outcome}
    return REGISTRY.get_sample_value("mall_events_consumed_total", labels) or 0.0


def test_a_consumer_counts_every_message_by_what_became_of_it(amqp_url, effects, start_consumer):
    before = {outcome: consumed(outcome) for outcome in ("handled", "duplicate", "retried", "dead_lettered")}
    malformed_before = consumed("dead_lettered", "test.broken")

    def fails_for_ts9(conn, event):
        if event.payload["number"] == "TS-9":
            raise ValueError("always fails")
        record_effect(conn, event)

    consumer = start_consumer(fails_for_ts9, max_retries=1)
    twice = envelope(number="TS-8")
    publish(amqp_url, twice)
    publish(amqp_url, twice)
    publish(amqp_url, envelope(number="TS-9"))
    publish(amqp_url, {"not": "an envelope"}, routing_key="test.broken")

    dead: list = []
    eventually(lambda: dead.extend(dead_letters(amqp_url)) or len(dead) == 2, timeout=30)
    delta = {outcome: consumed(outcome) - before[outcome] for outcome in before}
    assert delta == {"handled": 1, "duplicate": 1, "retried": 1, "dead_lettered": 1}
    assert consumed("dead_lettered", "test.broken") - malformed_before == 1  # no envelope: its routing key
    assert REGISTRY.get_sample_value("mall_event_lag_seconds_count", {"consumer": consumer.name}) >= 2


def test_the_relay_counts_what_it_published_and_the_backlog_is_measured_when_scraped(
    client, desk, intake, amqp_url
):
    published = {"service": "intake", "type": "complaint.received"}
    before = REGISTRY.get_sample_value("mall_events_published_total", published) or 0.0
    backlog = OutboxBacklog(intake.pool, "intake")
    client.post("/complaints", json=complaint(), headers=desk)
    client.post("/complaints", json=complaint(), headers=desk)

    waiting = render([backlog])[0].decode()
    with Connection(amqp_url) as connection:
        assert OutboxRelay(intake.pool, "intake", amqp_url).relay_once(connection) == 2
    drained = render([backlog])[0].decode()

    assert sample(waiting, "mall_outbox_backlog", service="intake") == 2
    assert sample(waiting, "mall_outbox_oldest_age_seconds", service="intake") >= 0
    assert sample(drained, "mall_outbox_backlog", service="intake") == 0
    assert REGISTRY.get_sample_value("mall_events_published_total", published) - before == 2


def test_queue_depth_is_read_from_rabbitmq_and_a_missing_queue_is_a_failed_collector_not_a_failed_scrape(
    amqp_url,
):
    queues = consumer_queues("test.depth", ["test.#"])
    with Connection(amqp_url) as connection:
        for queue in queues.all():
            queue(connection.default_channel).declare()
    publish(amqp_url, envelope(number="TS-10"))
    publish(amqp_url, envelope(number="TS-11"))

    found = render([QueueDepth(amqp_url, ["test.depth", "test.depth.dead"], "test")])[0].decode()
    missing = render([QueueDepth(amqp_url, ["no.such.queue"], "test")])[0].decode()

    assert sample(found, "mall_queue_messages", queue="test.depth") == 2
    assert sample(found, "mall_queue_messages", queue="test.depth.dead") == 0
    assert sample(found, "mall_queue_consumers", queue="test.depth") == 0
    assert sample(missing, "mall_collector_up", collector="queues:test") == 0
