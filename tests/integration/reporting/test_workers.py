"""Reporting's consumer as two workers on the real RabbitMQ: the events of several cases, interleaved and
each delivered twice, give the read model one worker gives them; and an erasure that commits while a
worker waits for the case's lock leaves nothing personal in what that worker stores."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import timedelta

from kombu import Connection, Producer

from services.common.bus.envelope import dump_envelope
from services.common.bus.topology import EVENTS_EXCHANGE, SUBSCRIPTIONS, consumer_queues
from services.common.observability.metrics import EVENTS_CONSUMED
from services.reporting.bootstrap import EVENTS_QUEUE, bootstrap
from services.reporting.service_layer.erasure import erase_on_request
from services.reporting.service_layer.unit_of_work import UnitOfWork
from services.runner.background import Background
from services.runner.registry import ConsumerWorker
from tests.integration.reporting.conftest import table
from tests.integration.reporting.test_erasure_on_request import AT, asked, story
from tests.integration.reporting.test_figures import NOW, make_stories
from tests.support.stories import Story, corrected, events
from tests.support.waiting import eventually

# The read model, without what says when or by whom it was written (a CAPA record lists its
# complaints in the order they joined it: compared as a set).
MODEL = {
    "cases": "SELECT * FROM reporting.cases ORDER BY complaint_id",
    "escalations": "SELECT * FROM reporting.escalations ORDER BY event_id",
    "callbacks": "SELECT * FROM reporting.callbacks ORDER BY event_id",
    "capa": "SELECT problem_key, status, first_received_at, last_received_at, (SELECT array_agg(x ORDER BY x)"
    " FROM unnest(complaint_ids) x) AS complaint_ids FROM reporting.capa ORDER BY problem_key",
}


def read_model(reporting) -> dict[str, list[dict]]:
    with reporting.pool.connection() as conn:
        return {
            name: [
                {key: value for key, value in row.items() if key != "updated_at"}
                for row in conn.execute(query)
            ]
            for name, query in MODEL.items()
        }


def consumed(outcome: str) -> float:
    """How many messages reporting's consumers counted with this outcome, in this process so far."""
    return sum(
        sample.value
        for metric in EVENTS_CONSUMED.collect()
        for sample in metric.samples
        if sample.name.endswith("_total")
        and sample.labels["consumer"] == EVENTS_QUEUE
        and sample.labels["outcome"] == outcome
    )


def test_two_workers_give_the_read_model_of_one_whatever_they_interleave(
    settings, amqp_url, clock, reporting, feed
):
    clock.set(NOW)
    recurring = [
        Story(received_at=NOW - timedelta(days=3, hours=hours), merchant="M-2F-003") for hours in (1, 2, 3)
    ]
    streams = [events(case) for case in make_stories(seed=3, count=12) + recurring]
    interleaved = []
    while any(streams):  # one event of each case in turn: the two workers share every case
        interleaved += [stream.pop(0) for stream in streams if stream]
    reporting.settings = replace(settings, amqp_url=amqp_url)
    second = bootstrap(reporting.settings, clock=clock)  # a worker of its own, as a second process is
    second.pool.open(wait=True)
    workers = Background([ConsumerWorker(reporting.consumer()), ConsumerWorker(second.consumer())]).start()
    try:
        assert all(worker.consumer.ready.wait(30) for worker in workers.workers)
        handled, duplicates = consumed("handled"), consumed("duplicate")
        with Connection(amqp_url) as connection:
            producer = Producer(connection.default_channel, exchange=EVENTS_EXCHANGE)
            for queue in consumer_queues(EVENTS_QUEUE, SUBSCRIPTIONS[EVENTS_QUEUE]).all():
                queue.bind(connection.default_channel).declare()
            for envelope in interleaved:
                body = dump_envelope(envelope)
                for _ in (1, 2):  # every event delivered twice
                    producer.publish(
                        body, routing_key=envelope.type, serializer="json", message_id=envelope.id
                    )
        eventually(
            lambda: (
                (consumed("handled") - handled, consumed("duplicate") - duplicates)
                == (len(interleaved), len(interleaved))
            ),
            timeout=60,
        )
    finally:
        assert workers.stop()
        second.pool.close()
    by_two = read_model(reporting)
    assert len(table(reporting, "events", "id")) == len(interleaved)  # each kept once
    assert by_two["capa"] and by_two["escalations"] and by_two["callbacks"]  # the stories reach every table

    with reporting.pool.connection() as conn:  # forget it all, then one worker, each event once, in order
        conn.execute(
            "TRUNCATE reporting.events, reporting.cases, reporting.escalations, reporting.callbacks,"
            " reporting.capa, reporting.outbox, reporting.inbox"
        )
    assert feed(interleaved) == len(interleaved)

    assert read_model(reporting) == by_two


def test_an_erasure_committed_while_a_worker_waits_for_the_case_leaves_nothing_personal_in_its_event(
    feed, reporting
):
    mine = story()
    feed(events(mine))
    late = corrected(mine, AT + timedelta(days=4), category="quality")  # the whole complaint, customer too
    waiting = (
        "SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
        " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
    )
    with reporting.pool.connection() as eraser:  # an erasure on request, holding the case's lock
        erase_on_request(
            asked([mine.id]), UnitOfWork(reporting.pool, reporting.outbox, eraser), reporting.context
        )
        worker = threading.Thread(target=feed, args=([late],))
        worker.start()
        with reporting.pool.connection() as probe:
            eventually(lambda: probe.execute(waiting).fetchone()["n"] == 1)
        eraser.commit()
    worker.join(30)

    [stored] = [row["envelope"] for row in table(reporting, "events", "id") if str(row["id"]) == late.id]
    assert "13912345678" not in str(stored) and "王女士" not in str(stored)
    [case] = [row for row in table(reporting, "cases", "complaint_id") if row["complaint_id"] == mine.id]
    assert (case["category"], case["customer_name"], case["customer_phone"]) == ("quality", None, None)
