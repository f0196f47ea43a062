"""The desk's e-mailed complaints in the console: the list, an e-mail beside the desk's form, the
confirmation into a complaint, and the customer's answer on the case's timeline."""

from __future__ import annotations

from dataclasses import replace

from services.intake.mail.store import MailStore
from services.intake.mail.worker import MailboxWorker
from tests.integration.mail.conftest import drain
from tests.support import mails

FORM = {
    "customer_name": "李先生",
    "customer_email": "customer1@mail.example.cn",
    "floor": "3F",
    "merchant_code": "M-3F-001",
    "category": "merchant_service",
    "description": "小票和照片在附件里。",
    "people_count": "1",
}


def _read(mall, mailbox_settings, clock) -> None:
    intake = mall.runtimes["intake"]
    drain(MailboxWorker(replace(mailbox_settings), intake.pool, intake.settings.mall_id, clock))


def test_the_desk_confirms_an_email_with_its_own_form_and_sees_the_customers_answer_on_the_case(
    imap, mailbox_settings, browser, mall, clock
):
    imap.deliver(mails.with_photo(1), mails.auto_reply(2))
    _read(mall, mailbox_settings, clock)
    desk = browser()
    desk.login("desk")

    listed = desk.get("/console/emails").get_data(as_text=True)
    aside = desk.get("/console/emails?view=set_aside").get_data(as_text=True)
    assert "附照片的投诉" in listed and "自动回复：投诉受理" not in listed
    assert "自动回复：投诉受理" in aside and "自动回复</td>" in aside
    (draft,) = mall.api.get("/intake/email-drafts", headers=mall.staff("desk")).json
    page = desk.get(f"/console/emails/{draft['id']}").get_data(as_text=True)
    assert "小票.jpg" in page and 'value="email"' in page and "customer1@mail.example.cn" in page
    assert ">小票和照片在附件里。</textarea>" in page
    photo_id = mall.api.get(f"/intake/email-drafts/{draft['id']}", headers=mall.staff("desk")).json[
        "attachments"
    ][0]["id"]
    assert desk.get(f"/console/emails/{draft['id']}/attachments/{photo_id}").data == mails.PHOTO

    refused = desk.form(
        f"/console/emails/{draft['id']}", {**FORM, "category": ""}, f"/console/emails/{draft['id']}"
    )
    assert refused.status_code == 400 and 'data-field="category"' in refused.get_data(as_text=True)

    answer = desk.form(f"/console/emails/{draft['id']}", FORM, f"/console/emails/{draft['id']}")
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/receipt")
    complaint_id = answer.headers["Location"].split("/")[-2]
    mall.settle()
    again = desk.get(f"/console/emails/{draft['id']}")
    assert again.status_code == 302 and again.headers["Location"].endswith(f"/console/cases/{complaint_id}")
    recorded = mall.api.get(f"/intake/complaints/{complaint_id}", headers=mall.staff("desk")).json
    assert recorded["channel"] == "email" and recorded["customer"]["email"] == "customer1@mail.example.cn"

    imap.deliver(
        mails.plain(
            3,
            "商场的处理我满意。",
            subject="Re: 附照片的投诉",
            sender="customer1@mail.example.cn",
            In_Reply_To="<customer-1@mail.example.cn>",
        )
    )
    _read(mall, mailbox_settings, clock)
    case = desk.get(f"/console/cases/{complaint_id}").get_data(as_text=True)
    assert (
        'data-kind="customer_email"' in case
        and "商场的处理我满意。" in case
        and "顾客来信（电子邮件）" in case
    )
    assert mall.api.get("/intake/email-drafts", headers=mall.staff("desk")).json == []


def _status(mall, clock, connected: bool) -> None:
    """What the mailbox worker writes after connecting, or after failing to (three times here)."""
    intake = mall.runtimes["intake"]
    status = (
        {"connected": True, "failures": 0, "last_ok_at": clock.now()}
        if connected
        else {
            "connected": False,
            "failures": 3,
        }
    )
    with intake.pool.connection() as conn:
        MailStore(conn).save_status(intake.settings.mall_id, "tousu@mall", status, clock.now())


def test_the_list_says_when_no_mailbox_is_connected_or_it_cannot_be_reached_apart_from_an_empty_one(
    browser, mall, clock
):
    desk = browser()
    desk.login("desk")

    unread = desk.get("/console/emails").get_data(as_text=True)
    _status(mall, clock, connected=True)
    empty = desk.get("/console/emails").get_data(as_text=True)
    _status(mall, clock, connected=False)
    down = desk.get("/console/emails").get_data(as_text=True)

    assert 'id="mailbox-none"' in unread and "尚未接入投诉邮箱" in unread
    assert "mailbox-none" not in empty and "mailbox-down" not in empty and "没有邮件。" in empty
    assert 'id="mailbox-down"' in down and "投诉邮箱暂时连不上（已连续失败 3 次，上次成功收信：2026年" in down
