"""E-mailed complaints: the mailbox worker (running in the system, on a real dovecot) brings a
customer's e-mail to the desk's list; the desk opens it, confirms category, floor and shop with its
own form and prints the receipt; the customer's answer in the thread appears on the case's timeline."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tests.browser.conftest import reload_until, screenshot
from tests.support import mails


@pytest.fixture
def settings(settings, mailbox_settings):
    """The system with the complaint mailbox configured: intake runs its mailbox worker."""
    return replace(settings, mailbox=mailbox_settings)


def test_the_desk_confirms_an_emailed_complaint_and_sees_the_customers_answer_on_the_case(imap, person, mall):
    imap.deliver(mails.with_photo(1))
    desk = person("desk")

    desk.click("#nav-emails")
    reload_until(desk, f"{mall}/console/emails", "#emails tr[data-id]")
    screenshot(desk, "60-desk-email-drafts")
    desk.click("#emails tr[data-id] a")
    desk.wait_for_selector("#email-body")
    assert desk.inner_text("#email-body") == "小票和照片在附件里。"
    assert "小票.jpg" in desk.inner_text("#email-attachments")
    assert desk.input_value("#description") == "小票和照片在附件里。"
    assert desk.input_value("input[name=customer_email]") == "customer1@mail.example.cn"
    desk.select_option("#floor", "3F")
    desk.select_option("#merchant", "M-3F-001")
    desk.check("input[name=category][value=merchant_service]")
    desk.check("input[name=customer_request][value=refund]")
    screenshot(desk, "61-desk-email-confirm")
    desk.set_viewport_size({"width": 390, "height": 844})  # a phone at the desk: the e-mail and form stack
    screenshot(desk, "61b-desk-email-confirm-390")
    desk.set_viewport_size({"width": 1366, "height": 900})
    desk.click("#record")
    desk.wait_for_url("**/receipt")
    number = desk.inner_text("#number") if desk.locator("#number").count() else ""
    screenshot(desk, "62-desk-email-receipt")
    complaint_id = desk.url.split("/")[-2]

    imap.deliver(
        mails.plain(
            2,
            "谢谢，我同意退款方案。",
            subject="Re: 附照片的投诉",
            sender="customer1@mail.example.cn",
            In_Reply_To="<customer-1@mail.example.cn>",
        )
    )
    reload_until(desk, f"{mall}/console/cases/{complaint_id}", "#timeline tr[data-kind=customer_email]")
    assert "谢谢，我同意退款方案。" in desk.inner_text("#timeline tr[data-kind=customer_email]")
    screenshot(desk, "63-case-timeline-customer-email")
    assert number == "" or number.startswith("TS-")
