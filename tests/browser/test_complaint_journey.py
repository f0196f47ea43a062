"""A merchant complaint from the desk to its close, as the staff do it in the console."""

from __future__ import annotations

import re
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from playwright.sync_api import expect

from tests.browser.conftest import screenshot


def _open_task(page, number: str, element: str, attempts: int = 60):
    """Reload the queue until the task is there (the services work in the background), then open it."""
    row = f"tr[data-number='{number}'][data-element='{element}'] a.task-link"
    for _ in range(attempts):
        page.goto(page.url.split("/console/")[0] + "/console/queue")
        if page.locator(row).count():
            page.click(row)
            return page
        page.wait_for_timeout(500)
    raise AssertionError(f"{element} of {number} never reached the queue")


def _submit(page, **fields):
    for name, value in fields.items():
        target = page.locator(f"[name=f_{name}]")
        if target.first.get_attribute("type") == "radio":
            page.check(f"[name=f_{name}][value={value}]")
        elif target.first.evaluate("e => e.tagName") == "SELECT":
            page.select_option(f"[name=f_{name}]", value)
        else:
            page.fill(f"[name=f_{name}]", value)
    page.click("#complete")
    page.wait_for_url("**/console/queue?done=*")


def _customer_looks_up(chromium, link: str, number: str, last_digits: str, shot: str, until=None) -> str:
    """A customer on a phone opens the status page's link and looks the complaint up: the status shown
    (looked up again, a few times, until it is `until`: the services work in the background)."""
    phone = chromium.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True)
    try:
        page = phone.new_page()
        for _ in range(8):
            page.goto(link)
            assert page.input_value("[name=number]") == number
            page.fill("[name=contact]", last_digits)
            page.click("#lookup button")
            page.wait_for_selector("#found")
            if until is None or page.inner_text("#status-stage") == until:
                break
            page.wait_for_timeout(1000)
        fits = page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        assert fits  # no sideways scrolling on a phone
        screenshot(page, shot)
        return page.inner_text("#status-stage")
    finally:
        phone.close()


def test_the_desk_records_the_floor_resolves_ops_signs_off_and_the_desk_replies_calls_back_and_closes(
    person, clock, chromium
):
    desk = person("desk")
    desk.click("#nav-new")
    desk.check("input[name=channel][value=phone]")
    desk.fill("[name=customer_name]", "王女士")
    desk.fill("[name=customer_phone]", "13912345678")
    desk.select_option("#floor", "3F")
    desk.select_option("#merchant", "M-3F-001")
    desk.check("input[name=category][value=merchant_service]")
    desk.fill("#description", "店员态度恶劣，拒绝换货")
    desk.check("input[name=customer_request][value=exchange]")
    desk.check("input[name=customer_request][value=apology]")
    promised = desk.input_value("#promised")
    screenshot(desk, "01-desk-intake-form")
    desk.click("#record")
    number = desk.inner_text("#receipt-number")
    assert number.startswith("TS-") and desk.inner_text("#receipt-promised") == _as_the_mall_writes(promised)
    assert desk.inner_text("#receipt-mall") == "星河广场购物中心"
    assert desk.inner_text("#receipt-clerk") == "服务台 李静" and desk.inner_text("#receipt-phone")
    status_link = desk.get_attribute("#receipt-status-link", "href")
    screenshot(desk, "02-desk-receipt")
    # The customer opens the receipt's link on a phone: the number is filled in, the last four digits
    # of the phone open the status, in Chinese.
    assert _customer_looks_up(chromium, status_link, number, "5678", "02b-customer-status") in (
        "已受理",
        "处理中",
    )

    floor3 = person("floor3")
    _open_task(floor3, number, "handle_floor")
    assert "13912345678" in floor3.inner_text("#fact-customer")  # it holds the case: unmasked
    assert floor3.inner_text("#fact-request") == "换货、道歉"
    screenshot(floor3, "03-floor3-task")
    # What was done, required once "resolved" is chosen; the department asked and what it is asked
    # to do, once "ask a department" is.
    assert floor3.locator(".required-when").count() == 3
    # The department is picked from the mall's departments, by their Chinese names.
    assert "工程部" in floor3.locator("select[name=f_department_asked] option").evaluate_all(
        "options => options.map(option => option.textContent)"
    )
    floor3.click("#claim")
    assert "三楼楼管 王强" in floor3.inner_text("#claim-state")  # by display name, not login
    _submit(floor3, outcome="resolved", resolution="商户同意换货并向顾客道歉")
    screenshot(floor3, "04-floor3-queue-after")

    floor2 = person("floor2")
    assert floor2.locator(f"tr[data-number='{number}']").count() == 0
    floor2.goto(floor2.url.split("/console/")[0] + f"/console/find?number={number}")
    assert floor2.locator("#error-message").count() == 1  # not on its floor: not found
    screenshot(floor2, "05-floor2-does-not-see-it")

    ops = person("ops")
    _open_task(ops, number, "signoff_ops")
    screenshot(ops, "06-ops-signoff")
    _submit(ops, signed_off="true", signoff_note="同意")

    _open_task(desk, number, "merchant_call")
    signed_on = clock.now().astimezone(ZoneInfo("Asia/Shanghai")).date().isoformat()  # today, in the mall
    _submit(desk, called="true", merchant_signed_by="何勇", signed_at=signed_on, call_note="已换货")
    _open_task(desk, number, "reply")
    # The desk picks a canned reply of the complaint's category; its text lands in the reply, to edit.
    desk.select_option("[name=f_reply_template]", "商户致歉并办理换货")
    # The page fills the text when the choice changes: wait for it rather than race it.
    expect(desk.locator("[name=f_reply_text]")).to_have_value(re.compile("同意为您办理换货"))
    screenshot(desk, "07-desk-reply")
    _submit(
        desk, reply_text=desk.input_value("[name=f_reply_text]") + "（已于今日换货）", customer_view="接受"
    )

    clock.advance(timedelta(hours=25))  # the callback window opens 24 h after the reply
    _open_task(desk, number, "callback")
    # How satisfied the customer is shows only once they were reached: the server refuses it otherwise.
    satisfied = desk.locator("label.field-boolean:has([name=f_satisfied])")
    desk.check("[name=f_reached][value=false]")
    expect(satisfied).to_be_hidden()
    desk.check("[name=f_reached][value=true]")
    expect(satisfied).to_be_visible()
    screenshot(desk, "08-desk-callback")
    _submit(desk, reached="true", satisfied="true", callback_note="顾客满意")
    _open_task(desk, number, "close")
    _submit(
        desk, outcome="换货并道歉", cost="12.50", responsible_party="merchant", root_cause="service_attitude"
    )  # yuan and fen

    desk.goto(desk.url.split("/console/")[0] + "/console/complaints")
    desk.click(f"#complaints a:text('{number}')")
    desk.wait_for_selector("#diagram[data-ready=true]")
    assert desk.get_attribute("#diagram", "data-warnings") == "0"
    assert desk.inner_text("#case-status") == "已结案"
    # what the close recorded, in words, where the open tasks were
    closing = desk.inner_text("#closing")
    for shown in ("结案信息", "换货并道歉", "12.5", "商户", "服务态度"):
        assert shown in closing, shown
    assert "service_attitude" not in closing and "merchant" not in closing
    kinds = desk.eval_on_selector_all("#timeline tr[data-kind]", "rows => rows.map(r => r.dataset.kind)")
    assert {
        "case_started",
        "task_completed",
        "complaint.resolved",
        "complaint.replied",
        "complaint.closed",
    } <= set(kinds)
    assert "所用答复模板：商户致歉并办理换货" in desk.inner_text("#timeline")
    lit = desk.eval_on_selector_all(
        ".djs-element.case-visited", "nodes => nodes.map(n => n.dataset.elementId)"
    )
    assert {"handle_floor", "signoff_ops", "reply", "callback", "close"} <= set(lit)
    assert desk.locator(".djs-element.case-flow").count() > 5
    screenshot(desk, "09-case-page")
    assert (
        _customer_looks_up(chromium, status_link, number, "5678", "09b-customer-status-closed", "已结案")
        == "已结案"
    )
    desk.click("#print-link")
    assert "客户投诉处理单" in desk.inner_text("#print-title")
    screenshot(desk, "10-printable-form")


def _as_the_mall_writes(day: str) -> str:
    """2026-11-25 (a date field's value) → 2026年11月25日, as the receipt prints it."""
    found = date.fromisoformat(day)
    return f"{found.year}年{found.month}月{found.day}日"
