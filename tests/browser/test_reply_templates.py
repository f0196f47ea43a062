"""The operations manager keeps the canned replies in Chromium: from the top bar, by category, in Chinese."""

from __future__ import annotations

from tests.browser.conftest import screenshot


def test_the_operations_manager_adds_a_canned_reply_and_retires_it(person):
    ops = person("ops")
    ops.click("#nav-templates")
    assert ops.inner_text("h1") == "答复模板"
    ops.select_option("#template-form [name=category]", "fee")
    ops.fill("#template-form [name=title]", "停车费多收退还")
    ops.fill("#template-form [name=body]", "您好，多收的停车费已原路退还，请注意查收。")
    ops.click("#template-save")
    row = ops.locator("tr.template", has_text="停车费多收退还")
    assert row.count() == 1 and "模板已新增。" in ops.inner_text("body")
    screenshot(ops, "reply-templates")

    row.locator("button.retire").click()
    retired = ops.locator("tr.template.retired", has_text="停车费多收退还")
    assert retired.count() == 1 and "已停用" in retired.inner_text()
