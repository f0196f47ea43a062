"""The desk's everyday finding: a phone that complained before shows its history as it is typed; the
new complaint is found by a word, by the phone and by the shop; and it is linked to a related one."""

from __future__ import annotations

from tests.browser.conftest import screenshot


def _find(page, q: str) -> str:
    page.fill("#top-search", q)
    page.press("#top-search", "Enter")
    page.wait_for_selector("#complaints, #complaints-empty")
    return page.inner_text("main")


def test_the_desk_sees_a_callers_history_finds_the_complaint_three_ways_and_links_a_related_one(
    person, desk_api
):
    earlier = desk_api(category="quality", description="上周买的酸奶过期了")
    neighbour = desk_api(
        category="quality", description="饮料里有异物", customer={"name": "李先生", "phone": "13700001111"}
    )

    desk = person("desk")
    desk.click("#nav-new")
    desk.check("input[name=channel][value=phone]")
    desk.fill("[name=customer_name]", "王女士")
    desk.type("[name=customer_phone]", "139 1234 5678")
    desk.wait_for_selector("#history-summary")
    history = desk.inner_text("#customer-history")
    assert "共 1 件" in history and earlier["number"] in history and "上周买的酸奶过期了" in history
    screenshot(desk, "search-01-desk-form-with-history")

    desk.select_option("#floor", "3F")
    desk.select_option("#merchant", "M-3F-001")
    desk.check("input[name=category][value=quality]")
    desk.fill("#description", "今天买的酸奶又过期了，要求退款")
    desk.check("input[name=customer_request][value=refund]")
    desk.click("#record")
    number = desk.inner_text("#receipt-number")

    by_word = _find(desk, "酸奶")
    screenshot(desk, "search-02-found-by-word")
    assert number in by_word and earlier["number"] in by_word and neighbour["number"] not in by_word
    assert "最相关的在前" in by_word
    assert number in _find(desk, "139-1234-5678")
    # the status filter, kept in the URL like the others: the new complaint is not closed
    assert "处理状态" in desk.inner_text("#complaints thead")
    desk.select_option("#filter-stage", "closed")
    desk.click("#filter-go")
    desk.wait_for_selector("#complaints-empty")
    assert "stage=closed" in desk.url and number not in desk.inner_text("main")
    assert desk.inner_text("#filter-stage option:checked") == "已结案"
    options = desk.locator("#filter-stage option").all_inner_texts()
    assert options[1:] == ["已受理", "处理中", "已答复", "已结案"]
    screenshot(desk, "search-02b-status-filter")
    by_shop = _find(desk, "型男工坊")
    assert number in by_shop and neighbour["number"] in by_shop
    screenshot(desk, "search-03-found-by-shop")

    desk.click(f"#complaints a:text('{number}')")
    desk.wait_for_selector("#related")
    assert neighbour["number"] in desk.inner_text("#related-suggested")
    assert earlier["number"] in desk.inner_text("#customer-history")
    desk.click(f"button.link-related[data-number='{neighbour['number']}']")
    desk.wait_for_selector("#related-linked")
    assert neighbour["number"] in desk.inner_text("#related-linked")
    assert "已关联投诉" in desk.inner_text("main")
    screenshot(desk, "search-04-case-related-linked")
