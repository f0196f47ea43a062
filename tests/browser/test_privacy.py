"""The admin answers a customer's personal information request on a phone-sized screen (390 px):
a copy downloaded as one file, then the erasure, both listed."""

from __future__ import annotations

import json
from pathlib import Path

from tests.browser.conftest import screenshot

PHONE = "13912345678"


def test_an_admin_on_a_phone_downloads_a_customers_copy_and_erases_it_without_scrolling_sideways(
    chromium, mall, desk_api
):
    recorded = desk_api(customer={"name": "王女士", "phone": PHONE})
    context = chromium.new_context(
        locale="zh-CN", viewport={"width": 390, "height": 844}, accept_downloads=True
    )
    context.set_default_timeout(60_000)
    page = context.new_page()
    page.goto(f"{mall}/console/login")
    page.fill("#username", "admin")
    page.fill("#password", "demo-password-for-tests")
    page.click("#login")
    page.wait_for_url(lambda url: "/console/login" not in url)
    page.goto(f"{mall}/console/admin/privacy")

    page.fill("#export-form [name=contact]", PHONE)
    page.fill("#export-form [name=reason]", "顾客本人到服务台书面申请")
    with page.expect_download() as download:
        page.click("#export-form button.primary")
    document = json.loads(Path(download.value.path()).read_text(encoding="utf-8"))
    page.fill("#erase-form [name=contact]", PHONE)
    page.fill("#erase-form [name=reason]", "顾客书面要求删除")
    page.check("#erase-form [name=confirm]")
    page.click("#erase-form button.primary")
    page.wait_for_selector("#erased")
    screenshot(page, "60-admin-privacy-390px")
    wide = page.evaluate("() => document.documentElement.scrollWidth")
    context.close()

    assert [item["number"] for item in document["complaints"]] == [recorded["number"]]
    assert wide <= 390
