"""What notify reports to Prometheus: deliveries pending, due, late and failed per channel, read from its
tables at each scrape, and the attempts its workers make, counted as they make them."""

from __future__ import annotations

from datetime import timedelta

from prometheus_client import REGISTRY

from services.common.observability.exposition import render
from services.notify.metrics import CHANNELS, NotifyGauges
from tests.integration.notify.conftest import complaint_received, requested
from tests.support.deployment import sample

BY_EMAIL = {"email": "wang@example.com", "preferred_reply_channel": "email"}


def scrape(notify) -> str:
    return render([NotifyGauges(notify.pool, "demo", notify.clock)])[0].decode()


def attempts(channel: str, outcome: str) -> float:
    return (
        REGISTRY.get_sample_value(
            "mall_notify_delivery_attempts_total", {"channel": channel, "outcome": outcome}
        )
        or 0.0
    )


def test_a_delivery_waiting_shows_as_pending_due_and_late_until_a_worker_sends_it(
    notify, deliver, worker, clock
):
    complaint = complaint_received(customer=BY_EMAIL)
    deliver(complaint)
    deliver(requested(complaint.complaint_id))
    sent_before = attempts("email", "sent")

    clock.advance(timedelta(minutes=10))  # no worker ran for ten minutes
    behind = scrape(notify)
    worker.tick()
    caught_up = scrape(notify)

    assert sample(behind, "mall_notify_deliveries", channel="email", state="pending") == 1
    assert sample(behind, "mall_notify_deliveries_due", channel="email") == 1
    assert 590 <= sample(behind, "mall_notify_delivery_lag_seconds", channel="email") <= 610
    assert 590 <= sample(behind, "mall_notify_oldest_pending_age_seconds", channel="email") <= 610
    assert sample(caught_up, "mall_notify_deliveries", state="pending") == 0
    assert sample(caught_up, "mall_notify_deliveries_due") == 0
    assert sample(caught_up, "mall_notify_delivery_lag_seconds", channel="email") == 0
    assert attempts("email", "sent") - sent_before == 1
    for channel in CHANNELS:  # every channel is reported, an idle one as 0
        assert f'mall_notify_deliveries{{channel="{channel}",state="failed"}}' in caught_up
    assert sample(caught_up, "mall_collector_up", collector="notify") == 1


def test_a_delivery_waiting_for_its_retry_is_pending_but_not_due_and_one_given_up_is_failed(
    notify, deliver, worker, mail, clock
):
    first, second = (
        complaint_received(customer=BY_EMAIL),
        complaint_received(
            customer={"email": "gone@example.com", "preferred_reply_channel": "email"},
            number="TS-20261122-0002",
        ),
    )
    for complaint in (first, second):
        deliver(complaint)
        deliver(requested(complaint.complaint_id, number=complaint.payload["number"]))
    mail.refuse("wang@example.com", "451 4.3.0 try again later")
    mail.refuse("gone@example.com", "550 5.1.1 no such user")
    transient, permanent = attempts("email", "transient"), attempts("email", "permanent")

    worker.tick()
    after = scrape(notify)

    assert sample(after, "mall_notify_deliveries", channel="email", state="pending") == 1  # its retry waits
    assert sample(after, "mall_notify_deliveries_due", channel="email") == 0
    assert sample(after, "mall_notify_delivery_lag_seconds", channel="email") == 0
    assert sample(after, "mall_notify_oldest_pending_age_seconds", channel="email") >= 0
    assert sample(after, "mall_notify_deliveries", channel="email", state="failed") == 1
    assert attempts("email", "transient") - transient == 1
    assert attempts("email", "permanent") - permanent == 1
