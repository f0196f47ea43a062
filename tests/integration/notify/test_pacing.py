"""Quiet hours and the per-recipient rate limit hold customers' messages back, never staff alerts;
requests for a complaint not known yet wait for it, and the desk is told if it never comes."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from services.notify.bootstrap import bootstrap
from tests.integration.notify.conftest import attempts, complaint_received, deliveries, outbox, requested

LATE_EVENING = datetime(2026, 11, 22, 15, 0, tzinfo=UTC)  # 23:00 in Shanghai


@pytest.fixture
def paced(notify_settings, clock, notify):
    """Notify with the quiet hours 21:00-08:00 and at most 2 messages an hour to one address."""
    settings = replace(
        notify_settings,
        notify=replace(
            notify_settings.notify,
            quiet_hours="21:00-08:00",
            recipient_limit=2,
            recipient_window=timedelta(hours=1),
        ),
    )
    runtime = bootstrap(settings, notify.pool, clock)
    consumer = runtime.consumer()
    return (
        runtime,
        runtime.worker(),
        lambda envelope: consumer.apply(envelope, consumer.handlers[envelope.type]),
    )


def test_a_customer_is_not_messaged_in_the_quiet_hours_but_staff_are(paced, clock, gateway):
    notify, worker, deliver = paced
    clock.set(LATE_EVENING)
    complaint = complaint_received()
    deliver(complaint)
    deliver(requested(complaint.complaint_id))
    deliver(requested(complaint.complaint_id, "overdue", "operations_manager"))

    worker.tick()

    assert [post.path for post in gateway.received] == ["/hooks/ops"]  # the staff alert went at once
    [sms] = [row for row in deliveries(notify, complaint.complaint_id) if row["channel"] == "sms"]
    assert sms["state"] == "pending"
    assert sms["next_attempt_at"] == datetime(2026, 11, 23, 0, 0, tzinfo=UTC)  # 08:00 in Shanghai
    clock.set(datetime(2026, 11, 22, 23, 59, tzinfo=UTC))
    worker.tick()
    assert len(gateway.received) == 1
    clock.set(datetime(2026, 11, 23, 0, 0, tzinfo=UTC))
    worker.tick()
    assert [post.path for post in gateway.received] == ["/hooks/ops", "/sms/send"]


def test_an_email_to_a_customer_goes_in_the_quiet_hours_for_it_wakes_nobody(paced, clock, mail, gateway):
    notify, worker, deliver = paced
    clock.set(LATE_EVENING)
    by_email = complaint_received(
        channel="email",
        customer={"phone": None, "email": "wang@example.com", "preferred_reply_channel": "email"},
    )
    by_phone = complaint_received(number="TS-20261122-0002")
    for complaint in (by_email, by_phone):
        deliver(complaint)
        deliver(requested(complaint.complaint_id, number=complaint.payload["number"]))

    worker.tick()

    [acknowledged] = mail.received  # the e-mail went at once, the SMS waits for the morning
    assert "wang@example.com" in str(acknowledged)
    [email] = deliveries(notify, by_email.complaint_id)
    [sms] = deliveries(notify, by_phone.complaint_id)
    assert (email["channel"], email["state"]) == ("email", "sent")
    assert (sms["channel"], sms["state"]) == ("sms", "pending") and gateway.received == []


def test_a_storm_of_messages_to_one_customer_is_spread_out_and_none_is_lost(paced, clock, gateway):
    notify, worker, deliver = paced
    complaint = complaint_received()
    deliver(complaint)
    for index in range(5):
        deliver(requested(complaint.complaint_id, f"reminder_{index}"))

    worker.tick()
    assert len(gateway.received) == 2  # the limit
    held = [row for row in deliveries(notify, complaint.complaint_id) if row["state"] == "pending"]
    assert len(held) == 3 and {row["attempts"] for row in held} == {0}
    assert attempts(notify, held[0]["id"])[0][0] == "deferred"
    assert "rate limit" in attempts(notify, held[0]["id"])[0][1]

    clock.advance(timedelta(minutes=59))
    worker.tick()
    assert len(gateway.received) == 2
    clock.advance(timedelta(minutes=1))
    worker.tick()
    assert len(gateway.received) == 4
    clock.advance(timedelta(hours=1))
    worker.tick()
    assert len(gateway.received) == 5
    assert {row["state"] for row in deliveries(notify, complaint.complaint_id)} == {"sent"}


def test_two_workers_keep_to_the_limit_for_one_address(paced, notify_settings, clock, gateway):
    notify, worker, deliver = paced
    other = bootstrap(
        replace(notify_settings, notify=replace(notify_settings.notify, recipient_limit=2)),
        notify.pool,
        clock,
    ).worker()
    complaint = complaint_received()
    deliver(complaint)
    for index in range(4):
        deliver(requested(complaint.complaint_id, f"reminder_{index}"))
    worker.batch = other.batch = 2

    first = worker.claim()
    second = other.claim()  # the other worker's claim sees the first one's
    for running, claimed in ((worker, first), (other, second)):
        for delivery in claimed:
            running.record(delivery, running.send(delivery))

    assert len(first) + len(second) == 2 and len(gateway.received) == 2


def test_a_request_that_arrives_before_its_complaint_waits_for_it(notify, deliver, worker, gateway):
    complaint = complaint_received()
    deliver(requested(complaint.complaint_id))

    worker.tick()
    assert gateway.received == []
    deliver(complaint)
    worker.tick()

    [sms] = gateway.received
    assert "TS-20261122-0001" in sms.json["content"]


def test_a_request_whose_complaint_never_comes_is_failed_after_the_hold_and_the_desk_told(
    notify, deliver, worker, clock
):
    complaint = complaint_received()
    deliver(requested(complaint.complaint_id, "reply", reply_text="已处理"))

    worker.tick()
    assert outbox(notify, "notification.failed") == []
    clock.advance(notify.context.hold_for + timedelta(minutes=1))
    worker.tick()
    worker.tick()

    [event] = outbox(notify, "notification.failed")
    assert (event["reason"], event["kind"], event["audience"]) == ("complaint_unknown", "reply", "customer")
    [alert] = deliveries(notify, complaint.complaint_id)
    assert (alert["kind"], alert["address"], alert["state"]) == ("delivery_failed", "desk", "sent")
    deliver(complaint)  # arriving late now changes nothing: the request has expired
    worker.tick()
    assert len(deliveries(notify, complaint.complaint_id)) == 1


def test_a_correction_that_overtakes_the_complaint_it_corrects_is_not_undone_by_it(
    notify, deliver, worker, mail
):
    from datetime import timedelta as later

    from tests.integration.notify.conftest import complaint_corrected

    original = complaint_received(customer={"email": "old@example.com", "preferred_reply_channel": "email"})
    fixed = complaint_received(
        original.complaint_id, customer={"email": "new@example.com", "preferred_reply_channel": "email"}
    )
    correction = replace(
        complaint_corrected(fixed, {"customer.email": {}}),
        occurred_at=original.occurred_at + later(minutes=5),
    )

    deliver(correction)  # from intake's relay, ahead of the event it corrects
    deliver(original)
    deliver(requested(original.complaint_id))
    worker.tick()

    assert len(mail.to("new@example.com")) == 1 and mail.to("old@example.com") == []
