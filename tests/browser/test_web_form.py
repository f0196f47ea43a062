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


def test_a_customer_sees_the_receipt_at_the_top_and_each_mistake_under_its_field(chromium, mall):
    context = chromium.new_context(locale="zh-CN", viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(f"{mall}/intake/form")
    page.fill("[name=name]", "陈先生")
    page.fill("[name=phone]", "12345")
    page.select_option("[name=category]", "staff_service")
    page.fill("[name=description]", "保安态度粗暴")
    page.fill("[name=email]", "chen@")
    page.evaluate("document.querySelector('[name=email]').type = 'text'")  # past the browser's own check
    page.check("input[name=consent]")
    page.click("button[type=submit]")
    page.wait_for_selector(".field-error")
    refused = page.inner_text("#result")
    phone_note = page.inner_text("label:has([name=phone]) .field-error")
    screenshot(page, "web-form-mistakes-phone")

    page.fill("[name=phone]", "13700001111")
    page.fill("[name=email]", "")
    page.click("button[type=submit]")
    receipt = page.wait_for_selector(".receipt")
    box = receipt.bounding_box()
    text = receipt.inner_text()
    screenshot(page, "web-form-receipt-phone")
    context.close()

    assert refused.count("请检查以下内容") == 1
    assert "手机号为 11 位" in phone_note
    assert box["y"] >= 0 and box["y"] + box["height"] <= 844  # in view, not under the form
    assert "年" in text and "月" in text and "-" not in text.split("\n")[1]  # 2026年12月10日, no ISO date
