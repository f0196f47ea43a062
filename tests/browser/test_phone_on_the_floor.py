"""What a floor supervisor and the managers meet on a 390 px phone: the queue's cards say which
complaint is which, the complaint list's overdue tick is a thumb's target."""

from __future__ import annotations

from tests.browser.conftest import reload_until, screenshot

BOX = "el => { const b = el.getBoundingClientRect(); return [b.width, b.height]; }"


def test_a_supervisor_on_a_phone_tells_the_queues_complaints_apart_and_ticks_overdue_only(
    phone, desk_api, mall
):
    shop = desk_api(description="店员态度恶劣，拒绝换货，顾客电话13912345678")
    yogurt = desk_api(description="买的酸奶过期了，要求退款并道歉")
    floor3 = phone("floor3")

    reload_until(floor3, f"{mall}/console/queue", f"#queue tr[data-number='{yogurt['number']}']")
    first = floor3.locator(f"#queue tr[data-number='{shop['number']}']").first
    second = floor3.locator(f"#queue tr[data-number='{yogurt['number']}']").first
    screenshot(floor3, "phone-floor3-queue-cards")
    assert "型男工坊" in first.locator("td.shop").inner_text()
    assert first.locator("td.excerpt").inner_text() == "店员态度恶劣，拒绝换货，顾客电话139****5678"
    assert second.locator("td.excerpt").inner_text() == "买的酸奶过期了，要求退款并道歉"

    floor3.goto(f"{mall}/console/complaints")
    floor3.tap("#more-filters > summary")
    tick = floor3.locator("label.tick:has(input[name=overdue])")
    box_width, box_height = tick.locator("input").evaluate(BOX)
    label_width, label_height = tick.evaluate(BOX)
    assert box_width >= 28 and box_height >= 28 and label_height >= 44 and label_width >= 300
    tick.tap(position={"x": label_width - 20, "y": label_height / 2})  # its words' far side ticks it
    assert tick.locator("input").is_checked()
    screenshot(floor3, "phone-floor3-overdue-tick")
