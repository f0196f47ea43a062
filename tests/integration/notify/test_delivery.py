"""Messages reach customers by e-mail and SMS in their language, retried while the mail server is
down, failed and reported when an address bounces, and never sent twice for one request."""

from __future__ import annotations

import io
import threading
from dataclasses import replace
from datetime import timedelta
from urllib.parse import urlsplit, urlunsplit

import pypdf
import pytest

from services.notify.bootstrap import bootstrap
from tests.integration.notify.conftest import attempts, complaint_received, deliveries, outbox, requested
from tests.support.tcp_proxy import TcpProxy
from tests.support.waiting import eventually

BY_EMAIL = {"email": "wang@example.com", "preferred_reply_channel": "email"}


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
    assert row["state"] == "sent" and row["channel"] == "sms" and post.json["out_id"] == str(row["id"])
    assert [outcome for outcome, _ in attempts(notify, row["id"])] == ["sent"]
    [sent] = outbox(notify, "notification.sent")
    assert (sent["kind"], sent["audience"], sent["channel"]) == ("acknowledgement", "customer", "sms")


def test_an_acknowledgement_by_email_is_in_chinese_with_the_number_from_the_mall(
    notify, deliver, worker, mail
):
    complaint = complaint_received(customer=BY_EMAIL)
    deliver(complaint)
    deliver(requested(complaint.complaint_id))

    worker.tick()

    [received] = mail.to("wang@example.com")
    message = received.message
    assert message["Subject"] == "【星河广场购物中心】您的投诉已受理（编号 TS-20261122-0001）"
    assert message["From"] == "星河广场购物中心 <complaints@galaxy.example>"
    assert message["To"] == "王女士 <wang@example.com>"
    [row] = deliveries(notify, complaint.complaint_id)
    assert message["Message-ID"] == f"<{row['id']}@galaxy.example>" == row["message_id"]
    assert "TS-20261122-0001" in received.text and "2026年11月25日" in received.text
    assert "TS-20261122-0001" in received.html
    assert row["provider_answer"].startswith("250")


def test_an_english_speaking_customer_is_answered_in_english(deliver, worker, mail):
    complaint = complaint_received(customer={**BY_EMAIL, "language": "en"})
    deliver(complaint)
    deliver(requested(complaint.complaint_id))

    worker.tick()

    [received] = mail.to("wang@example.com")
    assert (
        received.message["Subject"]
        == "Galaxy Plaza Shopping Centre: your complaint is registered (no. TS-20261122-0001)"
    )
    assert "by 25 November 2026" in received.text


def test_while_the_mail_server_is_down_the_message_is_retried_then_delivered_once(
    notify_settings, clock, notify, deliver, mail
):
    proxy = TcpProxy("127.0.0.1", mail.port)  # the mail server as the service sees it, switched off
    worker = bootstrap(
        replace(notify_settings, smtp_url=f"smtp://127.0.0.1:{proxy.port}"), notify.pool, clock
    ).worker()
    complaint = complaint_received(customer=BY_EMAIL)
    deliver(complaint)
    deliver(requested(complaint.complaint_id))

    worker.tick()  # refused
    [row] = deliveries(notify, complaint.complaint_id)
    assert row["state"] == "pending" and row["attempts"] == 1
    wait = row["next_attempt_at"] - clock.now()
    assert timedelta(seconds=24) <= wait <= timedelta(seconds=36)  # the base delay, ±20%
    clock.advance(wait - timedelta(seconds=1))
    assert worker.tick() == 0  # not due yet
    clock.advance(timedelta(seconds=1))
    worker.tick()  # refused again: twice the delay now
    [row] = deliveries(notify, complaint.complaint_id)
    assert row["attempts"] == 2 and timedelta(seconds=48) <= row[
        "next_attempt_at"
    ] - clock.now() <= timedelta(seconds=72)

    proxy.up()
    clock.advance(timedelta(minutes=2))
    worker.tick()
    clock.advance(timedelta(hours=1))
    worker.tick()  # nothing left to send

    assert len(mail.to("wang@example.com")) == 1
    [row] = deliveries(notify, complaint.complaint_id)
    assert row["state"] == "sent" and row["attempts"] == 3
    log = attempts(notify, row["id"])
    assert [outcome for outcome, _ in log] == ["transient", "transient", "sent"]
    assert "unreachable" in log[0][1]
    proxy.down()


def test_a_permanent_bounce_fails_the_delivery_announces_it_and_tells_the_desk(notify, deliver, worker, mail):
    mail.refuse("wang@example.com", "550 5.1.1 <wang@example.com>: mailbox unavailable")
    complaint = complaint_received(customer=BY_EMAIL)
    deliver(complaint)
    deliver(requested(complaint.complaint_id, "reply", reply_text="已退款"))

    worker.tick()  # the reply bounces
    worker.tick()  # the desk's alert goes to its inbox

    assert mail.received == []
    rows = deliveries(notify, complaint.complaint_id)
    [failed] = [row for row in rows if row["audience"] == "customer"]
    assert failed["state"] == "failed" and failed["attempts"] == 1
    assert failed["last_error"].startswith("550 5.1.1") and "(recipient)" in failed["last_error"]
    [event] = outbox(notify, "notification.failed")
    assert (event["kind"], event["reason"], event["channel"], event["audience"]) == (
        "reply",
        "permanent_error",
        "email",
        "customer",
    )
    assert "wang@example.com" not in event["error"] and "550 5.1.1" in event["error"]  # no address in events
    [alert] = [row for row in rows if row["kind"] == "delivery_failed"]
    assert (alert["channel"], alert["address"], alert["state"]) == ("inbox", "desk", "sent")
    assert (
        "消息未能送达" in alert["subject"] and "未能送达：邮件服务器拒收此收件人（550）" in alert["body_text"]
    )


def test_the_same_request_delivered_twice_sends_one_message(notify, deliver, worker, mail):
    complaint = complaint_received(customer=BY_EMAIL)
    request = requested(complaint.complaint_id)
    deliver(complaint)

    assert deliver(request) is True
    assert deliver(request) is False  # the broker's redelivery: the inbox knows it
    with notify.pool.connection() as conn:  # and even past the inbox, the delivery's unique key holds
        notify.bus.handle_event(conn, request)
    worker.tick()
    worker.tick()

    assert len(mail.to("wang@example.com")) == 1
    assert len(deliveries(notify, complaint.complaint_id)) == 1


def test_a_worker_that_dies_between_the_send_and_its_record_sends_the_same_message_again_once(
    notify, deliver, worker, mail, clock
):
    complaint = complaint_received(customer=BY_EMAIL)
    deliver(complaint)
    deliver(requested(complaint.complaint_id))
    [claimed] = worker.claim()
    worker.send(claimed)  # the SMTP server has it; the worker dies before recording the answer

    assert worker.tick() == 0  # another worker leaves it alone while its lease runs
    clock.advance(notify.context.lease + timedelta(seconds=1))
    assert worker.tick() == 1
    clock.advance(notify.context.lease * 2)
    assert worker.tick() == 0

    first, second = mail.to("wang@example.com")
    assert first.message["Message-ID"] == second.message["Message-ID"]  # the same message, recognisably
    [row] = deliveries(notify, complaint.complaint_id)
    assert row["state"] == "sent" and row["attempts"] == 2
    assert [outcome for outcome, _ in attempts(notify, row["id"])] == ["interrupted", "sent"]


def test_a_database_lost_after_the_send_holds_the_record_until_it_is_back_and_sends_nothing_twice(
    notify_settings, notify, deliver, mail, clock, caplog
):
    """The worker sent; PostgreSQL then stops answering. It keeps the outcome and writes it once the
    database is back, rather than leave the delivery `sending` to be sent again when the lease ends."""
    complaint = complaint_received(customer=BY_EMAIL)
    deliver(complaint)
    deliver(requested(complaint.complaint_id))
    server = urlsplit(notify_settings.database_url)
    proxy = TcpProxy(server.hostname, server.port or 5432)
    proxy.up()
    through = replace(
        notify_settings, database_url=proxied_database(notify_settings.database_url, proxy.port)
    )
    runtime = bootstrap(through, clock=clock)
    runtime.pool.open(wait=True)
    worker = runtime.worker()
    try:
        [claimed] = worker.claim()
        outcome = worker.send(claimed)
        proxy.down()  # the message is out; the record cannot be written
        recording = threading.Thread(target=worker.record_once_sent, args=(claimed, outcome))
        recording.start()
        eventually(lambda: "its outcome waits for the database" in caplog.text, timeout=30)
        proxy.up()
        recording.join(timeout=60)
        assert not recording.is_alive()
    finally:
        worker.stop()
        runtime.pool.close()
        proxy.down()

    [row] = deliveries(notify, complaint.complaint_id)
    assert row["state"] == "sent" and row["attempts"] == 1
    assert [outcome for outcome, _ in attempts(notify, row["id"])] == ["sent"]
    clock.advance(notify.context.lease * 2)
    assert notify.worker().tick() == 0  # nothing left to send again
    assert len(mail.to("wang@example.com")) == 1


def test_an_outcome_written_again_after_its_commit_answer_was_lost_is_logged_once(notify, deliver, mail):
    """PostgreSQL committed the outcome but the answer never came back (the connection was cut): the
    worker writes it again once the database answers, and that second write changes nothing."""
    complaint = complaint_received(customer=BY_EMAIL)
    deliver(complaint)
    deliver(requested(complaint.complaint_id))
    worker = notify.worker()
    [claimed] = worker.claim()
    outcome = worker.send(claimed)

    worker.record(claimed, outcome)
    worker.record(claimed, outcome)  # as record_once_sent retries it

    [row] = deliveries(notify, complaint.complaint_id)
    assert row["state"] == "sent" and row["attempts"] == 1
    assert [outcome for outcome, _ in attempts(notify, row["id"])] == ["sent"]
    assert len(outbox(notify, "notification.sent")) == 1
    assert len(mail.to("wang@example.com")) == 1


def test_a_send_recorded_after_another_worker_took_the_delivery_over_moves_nothing_and_announces_nothing(
    notify, deliver, mail, clock
):
    """A worker slower than its lease: another worker claimed the delivery again meanwhile. The slow
    one's send is logged as its attempt, but the delivery stays the other worker's and no event says
    it was sent until that worker records its own send."""
    complaint = complaint_received(customer=BY_EMAIL)
    deliver(complaint)
    deliver(requested(complaint.complaint_id))
    slow, other = notify.worker(), notify.worker()
    [claimed] = slow.claim()
    outcome = slow.send(claimed)
    clock.advance(notify.context.lease + timedelta(seconds=1))
    [again] = other.claim()

    slow.record(claimed, outcome)
    [row] = deliveries(notify, complaint.complaint_id)
    assert row["state"] == "sending" and row["attempts"] == 2
    assert outbox(notify, "notification.sent") == []

    other.record(again, other.send(again))
    [row] = deliveries(notify, complaint.complaint_id)
    assert row["state"] == "sent" and len(outbox(notify, "notification.sent")) == 1
    assert [outcome for outcome, _ in attempts(notify, row["id"])] == ["interrupted", "sent", "sent"]


def proxied_database(url: str, port: int) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=f"{parts.username}@127.0.0.1:{port}"))


def test_transient_errors_end_in_failure_after_the_allowed_attempts(notify, deliver, worker, gateway, clock):
    gateway.answers["13912345678"] = 503
    complaint = complaint_received()
    deliver(complaint)
    deliver(requested(complaint.complaint_id))

    for _ in range(notify.context.retry.max_attempts):
        worker.tick()
        clock.advance(notify.context.retry.cap * 2)

    assert len(gateway.received) == notify.context.retry.max_attempts
    row = next(row for row in deliveries(notify, complaint.complaint_id) if row["audience"] == "customer")
    assert row["state"] == "failed"
    [event] = outbox(notify, "notification.failed")
    assert event["reason"] == "gave_up" and event["attempts"] == notify.context.retry.max_attempts


@pytest.mark.parametrize(
    ("status", "state"), [(400, "failed"), (404, "failed"), (429, "pending"), (500, "pending")]
)
def test_the_sms_gateways_status_says_whether_to_try_again(notify, deliver, worker, gateway, status, state):
    gateway.answers["13912345678"] = status
    complaint = complaint_received()
    deliver(complaint)
    deliver(requested(complaint.complaint_id))

    worker.tick()

    row = next(row for row in deliveries(notify, complaint.complaint_id) if row["audience"] == "customer")
    assert row["state"] == state and row["last_error"].startswith(str(status))


def test_a_written_reply_to_an_email_complaint_is_an_html_letter_with_the_pdf_attached(deliver, worker, mail):
    complaint = complaint_received(channel="email", customer=BY_EMAIL)
    deliver(complaint)
    deliver(requested(complaint.complaint_id, "written_reply", reply_text="经核实，商户已同意为您全额退款。"))

    worker.tick()

    [received] = mail.to("wang@example.com")
    assert received.message["Subject"] == "星河广场购物中心关于投诉 TS-20261122-0001 的书面答复"
    assert "letterhead" in received.html and "经核实，商户已同意为您全额退款。" in received.html
    [(filename, pdf)] = received.attachments()
    assert filename == "TS-20261122-0001.pdf"
    text = pypdf.PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert "尊敬的王女士" in text and "全额退款" in text and "星河广场购物中心" in text and "此致" in text


def test_a_customer_who_asked_not_to_be_contacted_gets_the_reply_only(notify, deliver, worker, gateway):
    complaint = complaint_received(customer={"contact_opt_out": True})
    deliver(complaint)
    deliver(requested(complaint.complaint_id, "acknowledgement"))
    deliver(requested(complaint.complaint_id, "reply", reply_text="已处理"))

    worker.tick()

    assert [post.json["template_id"] for post in gateway.received] == ["SMS_199"]  # the reply's
    states = {
        (row["kind"], row["state"], row["last_error"]) for row in deliveries(notify, complaint.complaint_id)
    }
    assert ("acknowledgement", "suppressed", "the customer asked not to be contacted") in states
    assert outbox(notify, "notification.failed") == []  # nothing for the desk to do
