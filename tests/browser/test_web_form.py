"""The customers' web form in Chromium: what a customer ticks is what the desk reads."""

from __future__ import annotations

import httpx

from tests.browser.conftest import screenshot
from tests.conftest import bearer


def test_a_customer_asking_for_compensation_and_an_apology_is_recorded_asking_for_both(
    chromium, mall, tokens
):
    context = chromium.new_context(locale="zh-CN", viewport={"width": 800, "height": 1000})
    page = context.new_page()
    page.goto(f"{mall}/intake/form")
    page.fill("[name=name]", "陈先生")
    page.fill("[name=phone]", "13700001111")
    page.select_option("[name=category]", "staff_service")
    page.fill("[name=description]", "保安态度粗暴")
    page.check("input[name=customer_request][value=compensation]")
    page.check("input[name=customer_request][value=apology]")
    page.check("input[name=consent]")
    screenshot(page, "web-form-two-requests")
    page.click("button[type=submit]")
    number = page.inner_text(".receipt strong")
    # The thank-you links the status page, the number filled in.
    page.click("#status-link")
    assert page.input_value("[name=number]") == number
    page.fill("[name=contact]", "1111")
    page.click("#lookup button")
    assert page.inner_text("#status-stage") in ("已受理", "处理中")
    screenshot(page, "web-form-status")
    context.close()

    desk = bearer(tokens, "service_desk", subject="desk")
    recorded = httpx.get(f"{mall}/intake/complaints/by-number/{number}", headers=desk, timeout=60).json()
    assert recorded["customer_request"] == ["compensation", "apology"]
