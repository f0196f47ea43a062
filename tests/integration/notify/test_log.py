"""The delivery log over HTTP for the desk and managers, the letter to print, and what the desk can
do about a message that did not reach: correct the address, or try again."""

from __future__ import annotations

import io
from datetime import timedelta

import pypdf
import pytest

from services.notify.app import create_app
from tests.conftest import bearer
from tests.integration.notify.conftest import complaint_corrected, complaint_received, deliveries, requested

BY_EMAIL = {"email": "wang@example.com", "preferred_reply_channel": "email"}


@pytest.fixture
def api(notify):
    return create_app(notify).test_client()


@pytest.fixture
def desk(tokens):
    return bearer(tokens, "service_desk", subject="desk")


def test_the_desk_reads_each_message_its_attempts_and_the_providers_answers(
    deliver, worker, mail, api, desk, tokens
):
    mail.refuse("wang@example.com", "550 5.1.1 mailbox unavailable")
    complaint = complaint_received(customer=BY_EMAIL)
    deliver(complaint)
    deliver(requested(complaint.complaint_id))
    worker.tick()

    answer = api.get(f"/complaints/{complaint.complaint_id}/deliveries", headers=desk)
    managers = api.get(
        f"/complaints/{complaint.complaint_id}/deliveries",
        headers=bearer(tokens, "operations_manager", subject="ops"),
    )
    floor = api.get(
        f"/complaints/{complaint.complaint_id}/deliveries",
        headers=bearer(tokens, "floor_supervisor", floors=["3F"]),
    )

    assert answer.status_code == 200
    request, alert = answer.json["requests"]  # the acknowledgement, and the desk told it failed
    assert (request["kind"], request["to"], request["state"]) == ("acknowledgement", "customer", "planned")
    assert (alert["kind"], alert["to"]) == ("delivery_failed", "service_desk")
    [delivery] = request["deliveries"]
    assert (delivery["channel"], delivery["recipient"], delivery["state"]) == (
        "email",
        "wang@example.com",
        "failed",
    )
    assert [(entry["outcome"], entry["answer"][:3]) for entry in delivery["log"]] == [("permanent", "550")]
    assert managers.json["requests"][0]["deliveries"][0]["recipient"] == "w***@example.com"
    assert managers.json["requests"][0]["deliveries"][0]["recipient_name"] == "王**"
    assert floor.status_code == 403
    unknown = api.get("/complaints/6f1c1d1e-0000-4c1b-9a53-9b8f3b1c0a11/deliveries", headers=desk)
    assert unknown.status_code == 404 and unknown.json["message"].startswith("notify knows no complaint")


def test_failed_deliveries_are_listed_for_the_desk_newest_first(deliver, worker, mail, api, desk, clock):
    mail.refuse("wang@example.com", "550 5.1.1 mailbox unavailable")
    numbers = []
    for index in range(3):
        complaint = complaint_received(number=f"TS-20261122-000{index + 1}", customer=BY_EMAIL)
        deliver(complaint)
        deliver(requested(complaint.complaint_id, number=complaint.payload["number"]))
        numbers.append(complaint.complaint_id)
        worker.tick()
        clock.advance(timedelta(minutes=1))

    first = api.get("/deliveries/failed?limit=2", headers=desk).json
    rest = api.get(f"/deliveries/failed?limit=2&cursor={first['next_cursor']}", headers=desk).json

    assert [item["complaint_id"] for item in first["items"] + rest["items"]] == numbers[::-1]
    assert rest["next_cursor"] is None


def test_a_letter_complaints_written_reply_is_a_letter_the_desk_prints_from_its_inbox(
    notify, deliver, worker, api, desk
):
    complaint = complaint_received(
        channel="letter",
        customer={
            "phone": None,
            "preferred_reply_channel": "letter",
            "address": "上海市浦东新区世纪大道 1 号",
        },
    )
    deliver(complaint)
    deliver(requested(complaint.complaint_id, "written_reply", reply_text="经核实，商户已同意为您全额退款。"))

    worker.tick()

    [item] = api.get("/inbox", headers=desk).json["items"]
    assert item["kind"] == "letter_to_print" and item["title"].startswith("待打印邮寄：")
    [row] = deliveries(notify, complaint.complaint_id)
    assert (row["channel"], row["state"]) == ("letter", "sent")
    assert item["link"] == f"/notify/deliveries/{row['id']}/letter.pdf"
    pdf = api.get(f"/deliveries/{row['id']}/letter.pdf", headers=desk)
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    text = pypdf.PdfReader(io.BytesIO(pdf.data)).pages[0].extract_text()
    assert "上海市浦东新区世纪大道" in text and "尊敬的王女士" in text and "TS-20261122-0001" in text
    assert "全额退款" in text and "星河广场购物中心" in text


def test_a_corrected_address_sends_what_never_reached_the_customer_again(notify, deliver, worker, mail):
    mail.refuse("wang@exampel.com", "550 5.1.2 bad domain")
    complaint = complaint_received(customer={**BY_EMAIL, "email": "wang@exampel.com"})
    deliver(complaint)
    deliver(requested(complaint.complaint_id, "reply", reply_text="已退款"))
    worker.tick()

    changes = {"customer.email": {"old": "wang@exampel.com", "new": "wang@example.com"}}
    deliver(complaint_corrected(complaint_received(complaint.complaint_id, customer=BY_EMAIL), changes))
    worker.tick()

    [received] = mail.to("wang@example.com")
    assert "已退款" in received.text
    states = {
        (row["address"], row["state"])
        for row in deliveries(notify, complaint.complaint_id)
        if row["audience"] == "customer"
    }
    assert states == {("wang@exampel.com", "failed"), ("wang@example.com", "sent")}


def test_the_desk_tries_a_failed_delivery_again(deliver, worker, mail, api, desk, tokens):
    mail.refuse("wang@example.com", "550 5.2.2 mailbox full")
    complaint = complaint_received(customer=BY_EMAIL)
    deliver(complaint)
    deliver(requested(complaint.complaint_id))
    worker.tick()
    failed = api.get("/deliveries/failed", headers=desk).json["items"][0]

    mail.handler.refuse.clear()  # the customer emptied the mailbox
    again = api.post(f"/deliveries/{failed['id']}/retry", headers=desk)
    twice = api.post(f"/deliveries/{failed['id']}/retry", headers=desk)
    worker.tick()

    assert again.status_code == 200 and again.json["state"] == "pending"
    assert twice.status_code == 409
    assert len(mail.to("wang@example.com")) == 1
    assert (
        api.post(
            f"/deliveries/{failed['id']}/retry", headers=bearer(tokens, "operations_manager")
        ).status_code
        == 403
    )


def test_a_letter_complaint_known_only_by_its_address_is_acknowledged_by_a_letter_to_print(
    notify, deliver, worker, api, desk
):
    complaint = complaint_received(
        channel="letter",
        customer={
            "phone": None,
            "preferred_reply_channel": "letter",
            "address": "上海市浦东新区世纪大道 1 号",
        },
    )
    deliver(complaint)
    deliver(requested(complaint.complaint_id, "acknowledgement"))

    worker.tick()

    [item] = api.get("/inbox", headers=desk).json["items"]
    pdf = api.get(item["link"].removeprefix("/notify"), headers=desk)
    text = pypdf.PdfReader(io.BytesIO(pdf.data)).pages[0].extract_text()
    assert "您的投诉已受理" in item["title"] and "TS-20261122-0001" in text and "2026年11月25日" in text
