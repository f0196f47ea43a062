"""A consumer applies the deliveries it already holds in one transaction (CONSUMER_BATCH_SIZE),
against the real RabbitMQ and PostgreSQL: one commit for many, a failing one alone, no double effect."""

from __future__ import annotations

import threading
import time

from services.common.bus.envelope import load_envelope
from tests.support.consumers import (
    RecordingConsumer,
    dead_letters,
    envelope,
    publish,
    record_effect,
    waiting_in_queue,
)
from tests.support.servers import host_port, proxied
from tests.support.tcp_proxy import TcpProxy
from tests.support.waiting import eventually


class Gate:
    """A handler held on its first message (number `gate`) until released, so that the messages
    published meanwhile are all in the consumer's hands together when it next reads."""

    def __init__(self, handler=record_effect):
        self.opened = threading.Event()
        self.handler = handler

    def __call__(self, conn, event):
        if event.payload.get("number") == "gate":
            self.opened.wait(30)
        self.handler(conn, event)

    def hold_then_release(self, amqp_url: str, messages: list[dict]) -> None:
        publish(amqp_url, envelope(number="gate"))
        eventually(lambda: waiting_in_queue(amqp_url) == 0)  # the gate is in the handler
        for message in messages:
            publish(amqp_url, message)
        eventually(lambda: waiting_in_queue(amqp_url) == 0)  # all sent to the consumer, unacked
        self.opened.set()


def transactions(intake, numbers: list[str]) -> list[str]:
    """The transactions that wrote these effects, one per row, in the rows' order."""
    with intake.pool.connection() as conn:
        rows = conn.execute(
            "SELECT number, xmin::text AS xid FROM public.effects WHERE number = ANY(%s)", (numbers,)
        ).fetchall()
    return [row["xid"] for row in sorted(rows, key=lambda row: numbers.index(row["number"]))]


def numbered(count: int, prefix: str = "TS") -> list[dict]:
    return [envelope(number=f"{prefix}-{n}") for n in range(count)]


def test_the_messages_in_hand_are_applied_in_order_with_one_commit_and_their_events_in_it(
    intake, amqp_url, effects, start_consumer
):
    def echo(conn, event):  # a handler publishing an event, as the services' handlers do
        record_effect(conn, event)
        answer = envelope("test.answered", number=event.payload["number"])
        intake.outbox.add(conn, load_envelope(answer))

    gate = Gate(echo)
    consumer = start_consumer(gate)
    messages = numbered(10)
    intake.outbox.written.clear()

    gate.hold_then_release(amqp_url, messages)

    eventually(lambda: len(effects()) == 11)
    numbers = [message["payload"]["number"] for message in messages]
    assert len(set(transactions(intake, numbers))) == 1  # one commit for the ten
    assert consumer.outcomes[1:] == [(message["id"], True) for message in messages]  # in their order
    with intake.pool.connection() as conn:
        answers = conn.execute(
            "SELECT xmin::text AS xid FROM intake.outbox WHERE routing_key = 'test.answered'"
        ).fetchall()
    assert len(answers) == 11
    assert {row["xid"] for row in answers} >= set(transactions(intake, numbers))  # written in that commit
    with intake.pool.connection() as conn:  # the relay's order (oldest first) is the batch's, no ties
        sent = conn.execute(
            "SELECT envelope -> 'payload' ->> 'number' AS number, created_at FROM intake.outbox"
            " WHERE routing_key = 'test.answered' AND envelope -> 'payload' ->> 'number' = ANY(%s)"
            " ORDER BY created_at",
            (numbers,),
        ).fetchall()
    assert [row["number"] for row in sent] == numbers and len({row["created_at"] for row in sent}) == 10
    assert intake.outbox.written.is_set()  # and the relay woken after it
    eventually(lambda: waiting_in_queue(amqp_url) == 0)


def test_the_inbox_is_asked_once_per_batch_and_a_message_twice_in_it_runs_once(
    intake, amqp_url, effects, start_consumer
):
    gate = Gate()
    consumer = start_consumer(gate)
    messages = numbered(4, "TW")
    gate.hold_then_release(amqp_url, [*messages, messages[1]])  # the second one published twice

    eventually(lambda: len(consumer.outcomes) == 6)
    ids = [message["id"] for message in messages]
    assert consumer.outcomes[1:] == [*((id_, True) for id_ in ids), (ids[1], False)]
    assert sorted(row["number"] for row in effects()) == sorted(["gate", *(f"TW-{n}" for n in range(4))])
    with intake.pool.connection() as conn:
        kept = conn.execute(
            "SELECT count(*) AS n FROM intake.inbox WHERE message_id = ANY(%s)", (ids,)
        ).fetchone()
    assert kept["n"] == 4
    eventually(lambda: waiting_in_queue(amqp_url) == 0)


def test_while_events_flow_messages_within_the_linger_join_the_batch_of_the_one_that_woke_the_consumer(
    intake, amqp_url, effects, start_consumer
):
    start_consumer(record_effect, linger=1.0)  # long, so the test does not race the clock
    quiet, first, second = numbered(3, "TL")
    publish(amqp_url, quiet)  # after a quiet spell: applied at once, without lingering
    eventually(lambda: len(effects()) == 1, timeout=0.9)
    publish(amqp_url, first)  # events are flowing now: the consumer lingers for more
    time.sleep(0.2)  # well inside the linger: the second joins the first's transaction
    publish(amqp_url, second)

    eventually(lambda: len(effects()) == 3, timeout=5)
    assert len(set(transactions(intake, ["TL-1", "TL-2"]))) == 1
    assert transactions(intake, ["TL-0"]) != transactions(intake, ["TL-1"])


def test_a_quiet_queues_single_message_is_applied_without_waiting_for_more(
    intake, amqp_url, effects, start_consumer
):
    start_consumer(record_effect)
    publish(amqp_url, envelope(number="TS-1"))
    eventually(lambda: effects(), timeout=2)  # the consumer does not wait for a batch to fill


def test_a_failing_message_in_a_batch_is_retried_and_dead_lettered_alone_and_the_others_applied_once(
    intake, amqp_url, effects, start_consumer
):
    attempts = []

    def fails_for_ts_2(conn, event):
        if event.payload["number"] == "TS-2":
            attempts.append(event.id)
            raise ValueError("merchant M-404 does not exist")
        record_effect(conn, event)

    gate = Gate(fails_for_ts_2)
    consumer = start_consumer(gate, max_retries=1)
    messages = numbered(5)

    gate.hold_then_release(amqp_url, messages)

    [dead] = eventually(lambda: dead_letters(amqp_url))
    assert dead.headers["x-retries"] == 1  # counted as for a message alone: one retry, then dead
    assert "merchant M-404" in dead.headers["x-error"]
    # the batch's attempt, the attempt alone after the batch rolled back, and the one retry
    assert len(attempts) == 3
    good = [message for message in messages if message["payload"]["number"] != "TS-2"]
    assert sorted(row["number"] for row in effects()) == ["TS-0", "TS-1", "TS-3", "TS-4", "gate"]
    assert [outcome for outcome in consumer.outcomes if outcome[0] != messages[2]["id"]][1:] == [
        (message["id"], True) for message in good
    ]


class CrashesBeforeAcking(RecordingConsumer):
    """Loses its connection once, after the commit of a batch and before its acks."""

    crashed = False

    def apply_all(self, deliveries):
        applied = super().apply_all(deliveries)
        if len(deliveries) > 1 and not self.crashed:
            self.crashed = True
            raise ConnectionResetError("connection lost after the commit")
        return applied


def test_a_batch_delivered_again_after_a_crash_between_commit_and_ack_has_no_second_effect(
    intake, amqp_url, effects, start_consumer
):
    gate = Gate()
    consumer = start_consumer(gate, consumer_class=CrashesBeforeAcking)
    messages = numbered(6)

    gate.hold_then_release(amqp_url, messages)

    ids = [message["id"] for message in messages]
    eventually(lambda: sum(1 for id_, applied in consumer.outcomes if id_ in ids and not applied) == 6)
    assert consumer.crashed
    assert sorted(row["number"] for row in effects()) == sorted(["gate", *(f"TS-{n}" for n in range(6))])
    eventually(lambda: waiting_in_queue(amqp_url) == 0)


def test_a_broker_outage_while_a_batch_is_in_hand_loses_nothing_and_doubles_nothing(
    intake, amqp_url, effects, start_consumer
):
    proxy = TcpProxy(*host_port(amqp_url))
    proxy.up()
    try:
        gate = Gate()
        consumer = start_consumer(gate, url=proxied(amqp_url, proxy.port))
        messages = numbered(8)
        publish(amqp_url, envelope(number="gate"))
        eventually(lambda: waiting_in_queue(amqp_url) == 0)
        for message in messages:
            publish(amqp_url, message)
        eventually(lambda: waiting_in_queue(amqp_url) == 0)  # in the consumer's hands

        proxy.down()  # the acks cannot reach the broker; what was not acked goes back to the queue
        gate.opened.set()
        # the gate alone, or with the others when the consumer took them into the gate's batch
        # (a busy machine lets all nine arrive before it starts): committed either way
        eventually(lambda: len(effects()) >= 1)
        proxy.up()

        eventually(lambda: len(effects()) == 9, timeout=30)
        eventually(lambda: consumer.ready.is_set() and waiting_in_queue(amqp_url) == 0, timeout=30)
    finally:
        proxy.down()
    numbers = sorted(row["number"] for row in effects())
    assert numbers == sorted(["gate", *(f"TS-{n}" for n in range(8))])
