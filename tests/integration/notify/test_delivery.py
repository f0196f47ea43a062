"""Messages reach customers by e-mail and SMS in their language, retried when the server is down,
failed and reported when an address bounces, and never sent twice for one request."""

from __future__ import annotations

from tests.integration.notify.conftest import attempts, complaint_received, deliveries, outbox, requested


def test_an_acknowledgement_reaches_the_customer_by_sms_in_chinese_with_the_number(
    notify, deliver, worker, gateway
):
    complaint = complaint_received()
    deliver(complaint)
    deliver(requested(complaint.complaint_id))

    assert worker.tick() == 1

    [post] = gateway.received
    assert post.path == "/sms/send" and post.headers["Authorization"] == "Bearer gateway-key"
    assert post.json["phone"] == "13912345678"
    assert post.json["template_id"] == "SMS_100"
    assert post.json["params"]["number"] == "TS-20261122-0001"
    assert post.json["params"]["promised_reply_date"] == "2026年11月25日"
    assert "您的投诉已受理" in post.json["content"] and "TS-20261122-0001" in post.json["content"]
    [row] = deliveries(notify, complaint.complaint_id)
    assert row["state"] == "sent" and row["channel"] == "sms"
    assert [outcome for outcome, _ in attempts(notify, row["id"])] == ["sent"]
    assert outbox(notify, "notification.sent")[0]["kind"] == "acknowledgement"
