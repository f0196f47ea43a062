"""The desk confirms an e-mailed draft into a complaint; the customer's answer joins its case."""

from __future__ import annotations

from tests.conftest import bearer
from tests.integration.conftest import outbox_rows
from tests.integration.mail.conftest import drain, messages
from tests.support import mails

FORM = {
    "category": "merchant_service",
    "floor": "3F",
    "merchant_code": "M-3F-001",
    "description": "三楼的店员态度很差，拒绝换货。",
    "customer_request": ["exchange"],
}


def _draft(imap, intake, mailbox_worker, message=None) -> dict:
    imap.deliver(message or mails.plain(1))
    drain(mailbox_worker())
    return messages(intake, "draft")[-1]


def test_the_desk_lists_opens_and_confirms_a_draft_into_an_email_complaint(
    imap, intake, mailbox_worker, client, desk
):
    draft = _draft(imap, intake, mailbox_worker, mails.with_photo(1))

    listed = client.get("/email-drafts", headers=desk).get_json()
    opened = client.get(f"/email-drafts/{draft['id']}", headers=desk).get_json()
    photo = client.get(
        f"/email-drafts/{draft['id']}/attachments/{opened['attachments'][0]['id']}", headers=desk
    )
    answer = client.post(f"/email-drafts/{draft['id']}/confirm", json=FORM, headers=desk)

    assert [item["subject"] for item in listed] == ["附照片的投诉"]
    assert (
        opened["body"] == "小票和照片在附件里。" and opened["sender_address"] == "customer1@mail.example.cn"
    )
    assert photo.data == mails.PHOTO and photo.headers["Content-Disposition"].startswith("attachment")
    assert answer.status_code == 201, answer.get_json()
    complaint = answer.get_json()["complaint"]
    assert complaint["channel"] == "email" and complaint["number"].startswith("TS-")
    assert complaint["customer"]["email"] == "customer1@mail.example.cn"
    assert complaint["customer"]["name"] == "李先生"
    assert complaint["customer"]["preferred_reply_channel"] == "email"
    (event,) = [row["envelope"] for row in outbox_rows(intake) if row["routing_key"] == "complaint.received"]
    assert event["payload"]["email_thread"] == {
        "message_id": "<customer-1@mail.example.cn>",
        "subject": "附照片的投诉",
    }
    assert client.get("/email-drafts", headers=desk).get_json() == []
    kept = client.get(f"/complaints/{complaint['id']}/attachments", headers=desk).get_json()
    carried = {item["file_name"] for item in kept}
    assert "小票.jpg" in carried
    assert carried | set(answer.get_json()["attachments_not_copied"]) == {"小票.jpg", "receipt.pdf"}
    confirmed = client.get("/email-drafts?state=confirmed", headers=desk).get_json()
    assert confirmed[0]["complaint_id"] == complaint["id"]


def test_confirming_twice_records_one_complaint(imap, intake, mailbox_worker, client, desk):
    draft = _draft(imap, intake, mailbox_worker)

    first = client.post(f"/email-drafts/{draft['id']}/confirm", json=FORM, headers=desk)
    second = client.post(f"/email-drafts/{draft['id']}/confirm", json=FORM, headers=desk)

    assert first.status_code == 201 and second.status_code == 201
    assert first.get_json()["complaint"]["id"] == second.get_json()["complaint"]["id"]
    assert len([row for row in outbox_rows(intake) if row["routing_key"] == "complaint.received"]) == 1


def test_a_confirmation_without_a_category_is_refused_naming_it(imap, intake, mailbox_worker, client, desk):
    draft = _draft(imap, intake, mailbox_worker)

    answer = client.post(
        f"/email-drafts/{draft['id']}/confirm", json={**FORM, "category": None}, headers=desk
    )
    unknown = client.post(
        f"/email-drafts/{draft['id']}/confirm", json={**FORM, "channel": "phone"}, headers=desk
    )

    assert answer.status_code in (400, 422) and "category" in str(answer.get_json())
    assert unknown.status_code in (400, 422) and "channel" in str(unknown.get_json())
    assert messages(intake, "draft")[0]["state"] == "open"
    assert outbox_rows(intake) == []


def test_only_the_desk_sees_and_confirms_drafts(imap, intake, mailbox_worker, client, tokens):
    draft = _draft(imap, intake, mailbox_worker)
    floor = bearer(tokens, "floor_supervisor", floors=["3F"])

    assert client.get("/email-drafts", headers=floor).status_code == 403
    assert client.post(f"/email-drafts/{draft['id']}/confirm", json=FORM, headers=floor).status_code == 403
    assert client.get("/email-drafts").status_code == 401


def test_a_dismissed_draft_is_kept_and_cannot_be_confirmed(imap, intake, mailbox_worker, client, desk):
    draft = _draft(imap, intake, mailbox_worker)

    dismissed = client.post(f"/email-drafts/{draft['id']}/dismiss", headers=desk)
    confirmed = client.post(f"/email-drafts/{draft['id']}/confirm", json=FORM, headers=desk)

    assert dismissed.status_code == 200 and dismissed.get_json()["state"] == "dismissed"
    assert confirmed.status_code == 409
    assert len(messages(intake)) == 1


def test_the_customers_answer_in_the_thread_joins_the_complaint_never_a_new_draft(
    imap, intake, mailbox_worker, client, desk, tokens
):
    draft = _draft(imap, intake, mailbox_worker)
    complaint = client.post(f"/email-drafts/{draft['id']}/confirm", json=FORM, headers=desk).get_json()[
        "complaint"
    ]
    ours = "<reply-delivery-1@complaints.mall.test>"
    answer = mails.plain(
        2,
        "谢谢，我接受换货。",
        subject="Re: 投诉 1",
        sender="customer1@mail.example.cn",
        In_Reply_To=ours,
        References=f"<customer-1@mail.example.cn> {ours}",
    )

    imap.deliver(answer)
    drain(mailbox_worker())

    (kept,) = messages(intake, "answer")
    assert str(kept["complaint_id"]) == complaint["id"]
    assert len(messages(intake, "draft")) == 1
    thread = client.get(f"/email-drafts/of-complaint/{complaint['id']}", headers=desk).get_json()
    assert [item["body"] for item in thread] == ["三楼的店员态度很差，拒绝换货。", "谢谢，我接受换货。"]
    ops = bearer(tokens, "operations_manager")  # not holding the case: the sender masked
    masked = client.get(f"/email-drafts/of-complaint/{complaint['id']}", headers=ops).get_json()
    assert masked[1]["sender_address"] != "customer1@mail.example.cn" and masked[1]["sender_name"] == "李**"


def test_erasing_the_complaint_erases_its_emails_sender_text_message_and_attachments(
    imap, intake, mailbox_worker, client, desk
):
    from services.intake.adapters.erasure import erase_complaints

    draft = _draft(imap, intake, mailbox_worker, mails.with_photo(1))
    body = {**FORM, "description": "李先生来信，电话13912345678"}
    complaint = client.post(f"/email-drafts/{draft['id']}/confirm", json=body, headers=desk).get_json()[
        "complaint"
    ]
    imap.deliver(
        mails.plain(
            2,
            "我是李先生，电话13912345678",
            sender="customer1@mail.example.cn",
            In_Reply_To="<customer-1@mail.example.cn>",
        )
    )
    drain(mailbox_worker())

    with intake.pool.connection() as conn:
        assert erase_complaints(conn, [complaint["id"]], intake.objects) == [complaint["id"]]
        conn.commit()

    kept = messages(intake)
    assert [row["kind"] for row in kept] == ["draft", "answer"]
    assert all(
        row["sender_address"] is None and row["sender_name"] is None and bytes(row["raw"]) == b""
        for row in kept
    )
    assert "13912345678" not in kept[1]["body"] and "李先生" not in kept[1]["body"]
    with intake.pool.connection() as conn:
        assert conn.execute("SELECT count(*) AS n FROM intake.email_attachments").fetchone()["n"] == 0
