"""How a consumer gathers a batch and what it does when one fails, without a broker or a database:
the broker is a list of ready deliveries, the transaction a recording stand-in."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import psycopg
from kombu import Connection

from services.common.bus.consumer import EventConsumer
from services.common.bus.topology import consumer_queues


class Delivered:
    """A delivery as kombu hands it over, remembering how it was settled."""

    def __init__(self, number: str):
        self.number = number
        self.body = {
            "id": str(uuid.uuid4()),
            "type": "test.event",
            "occurred_at": datetime(2026, 11, 22, 2, tzinfo=UTC).isoformat(),
            "complaint_id": None,
            "mall_id": "demo",
            "actor": {"id": "test", "role": None},
            "correlation_id": "test-correlation",
            "payload": {"number": number},
            "schema_version": 1,
        }
        self.headers: dict = {}
        self.delivery_info = {"routing_key": "test.event"}
        self.properties: dict = {}
        self.settled: str | None = None

    def ack(self) -> None:
        self.settled = "acked"

    def requeue(self) -> None:
        self.settled = "requeued"


class Broker:
    """The deliveries already sent: each read hands over the next, then there is nothing more."""

    def __init__(self, consumer: EventConsumer, ready: list[Delivered]):
        self.consumer, self.ready, self.reads = consumer, list(ready), 0

    def drain_events(self, timeout=None) -> None:
        assert timeout == 0, "the consumer must not wait for deliveries not yet sent"
        if not self.ready:
            raise TimeoutError
        self.reads += 1
        delivery = self.ready.pop(0)
        self.consumer.on_message(delivery.body, delivery)


class Consumer(EventConsumer):
    """The consumer with its transactions recorded and its retries kept here instead of published."""

    def __init__(self, fails_for: str | None = None, unavailable_for: str | None = None, batch_size=50):
        queues = consumer_queues("test.effects", ["test.#"])
        handlers = {"test.event": self.handler}
        super().__init__(Connection("memory://"), None, "intake", queues, handlers, batch_size=batch_size)
        self.fails_for, self.unavailable_for = fails_for, unavailable_for
        self.transactions: list[list[str]] = []
        self.retried: list[str] = []
        self.infrastructure_pause.set()  # no real second's wait

    def handler(self, conn, envelope) -> None:
        if envelope.payload["number"] == self.fails_for:
            raise ValueError("always fails")
        if envelope.payload["number"] == self.unavailable_for:
            raise psycopg.OperationalError("the database does not answer")

    def apply_all(self, deliveries):
        for envelope, handler in deliveries:  # all or nothing, as in one transaction
            handler(None, envelope)
        self.transactions.append([envelope.payload["number"] for envelope, _ in deliveries])
        return [True] * len(deliveries)

    def _retry_or_dead_letter(self, message, exc, event_type=None) -> None:
        self.retried.append(message.number)
        message.ack()


def gather(consumer: Consumer, ready: list[Delivered]) -> Broker:
    """The first delivery wakes the consumer; it takes what else is ready and applies the batch."""
    first, *rest = ready
    broker = Broker(consumer, rest)
    consumer._consuming = broker
    consumer.on_message(first.body, first)
    consumer._take_what_is_ready()
    consumer._apply_in_hand()
    return broker


def deliveries(count: int) -> list[Delivered]:
    return [Delivered(f"TS-{n}") for n in range(count)]


def test_the_deliveries_ready_are_applied_in_order_in_one_transaction_and_acked_after_it():
    consumer, ready = Consumer(), deliveries(5)
    gather(consumer, ready)
    assert consumer.transactions == [["TS-0", "TS-1", "TS-2", "TS-3", "TS-4"]]
    assert all(delivery.settled == "acked" for delivery in ready)


def test_a_batch_stops_at_its_size_and_the_rest_wait_for_the_next():
    consumer, ready = Consumer(batch_size=3), deliveries(5)
    broker = gather(consumer, ready)
    assert consumer.transactions == [["TS-0", "TS-1", "TS-2"]]
    assert broker.reads == 2 and [delivery.settled for delivery in ready[3:]] == [None, None]


def test_a_lone_delivery_is_applied_at_once():
    consumer, ready = Consumer(), deliveries(1)
    gather(consumer, ready)
    assert consumer.transactions == [["TS-0"]] and ready[0].settled == "acked"


def test_a_failing_delivery_rolls_the_batch_back_and_each_is_then_applied_alone():
    consumer, ready = Consumer(fails_for="TS-1"), deliveries(3)
    gather(consumer, ready)
    assert consumer.transactions == [["TS-0"], ["TS-2"]]  # the batch never committed
    assert consumer.retried == ["TS-1"]
    assert all(delivery.settled == "acked" for delivery in ready)


def test_when_the_database_stops_answering_the_rest_of_the_batch_goes_back_untried():
    consumer, ready = Consumer(unavailable_for="TS-1"), deliveries(4)
    gather(consumer, ready)
    assert consumer.transactions == [["TS-0"]]
    assert [delivery.settled for delivery in ready] == ["acked", "requeued", "requeued", "requeued"]
    assert consumer.retried == []  # not the messages' fault: no retry counted


def test_with_batches_off_each_delivery_is_its_own_transaction():
    consumer, ready = Consumer(batch_size=1), deliveries(3)
    for delivery in ready:
        consumer.on_message(delivery.body, delivery)
    assert consumer.transactions == [["TS-0"], ["TS-1"], ["TS-2"]]
