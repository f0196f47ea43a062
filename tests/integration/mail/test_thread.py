"""The reply to an e-mailed complaint answers in the customer's thread, and the customer's answer to
it joins the complaint: intake (mailbox on dovecot), notify (SMTP to aiosmtpd), one database."""

from __future__ import annotations

from email.utils import make_msgid

from services.common.bus.envelope import load_envelope
from tests.integration.conftest import outbox_rows
from tests.integration.mail.conftest import drain, messages
from tests.integration.mail.test_confirm import FORM
from tests.integration.notify.conftest import requested
from tests.support import mails


def test_the_acknowledgement_is_threaded_and_the_customers_answer_joins_the_case(
    imap, intake, mailbox_worker, client, desk, deliver, worker, mail
):
    imap.deliver(mails.plain(1))
    drain(mailbox_worker())
    (draft,) = messages(intake, "draft")
    complaint = client.post(f"/email-drafts/{draft['id']}/confirm", json=FORM, headers=desk).get_json()[
        "complaint"
    ]
    (received,) = [
        row["envelope"] for row in outbox_rows(intake) if row["routing_key"] == "complaint.received"
    ]

    deliver(load_envelope(received))
    deliver(requested(complaint["id"], number=complaint["number"]))
    worker.tick()

    (sent,) = mail.to("customer1@mail.example.cn")
    assert sent.message["In-Reply-To"] == "<customer-1@mail.example.cn>"
    assert sent.message["References"] == "<customer-1@mail.example.cn>"
    assert complaint["number"] in sent.text

    ours = sent.message["Message-ID"]
    answer = mails.plain(
        2,
        "收到，谢谢，希望尽快处理。",
        subject="Re: " + str(sent.message["Subject"]),
        sender="customer1@mail.example.cn",
        message_id=make_msgid(domain="mail.example.cn"),
        In_Reply_To=ours,
        References=f"<customer-1@mail.example.cn> {ours}",
    )
    imap.deliver(answer)
    drain(mailbox_worker())

    (joined,) = messages(intake, "answer")
    assert str(joined["complaint_id"]) == complaint["id"] and joined["body"] == "收到，谢谢，希望尽快处理。"
    assert len(messages(intake, "draft")) == 1
    thread = client.get(f"/email-drafts/of-complaint/{complaint['id']}", headers=desk).get_json()
    assert [item["kind"] for item in thread] == ["draft", "answer"]
