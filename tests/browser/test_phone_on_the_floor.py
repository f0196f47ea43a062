"""What a floor supervisor and the managers meet on a 390 px phone: the queue's cards say which
complaint is which, the complaint list's overdue tick is a thumb's target, an attachment's caption
keeps its date and time together."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from tests.browser.conftest import reload_until, screenshot
from tests.conftest import bearer

RECEIPT_PHOTO = Path(__file__).resolve().parents[1] / "data" / "attachments" / "receipt.jpg"

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


def test_an_attachments_caption_keeps_its_date_and_time_on_one_line_on_a_phone(phone, desk_api, mall, tokens):
    recorded = desk_api()
    desk = bearer(tokens, "service_desk", subject="desk")
    task = _first_task(mall, desk, recorded["number"])
    photo = {"file": ("顾客购物小票和商品照片_很长的文件名.jpg", RECEIPT_PHOTO.read_bytes(), "image/jpeg")}
    sent = httpx.post(
        f"{mall}/intake/complaints/{recorded['id']}/attachments",
        files=photo,
        data={"task_id": task["id"]},  # sent while working a task: the longest caption, 处理任务时上传
        headers=desk,
        timeout=60,
    )
    assert sent.status_code == 201, sent.text
    floor3 = phone("floor3")

    floor3.goto(f"{mall}/console/cases/{recorded['id']}")
    when = floor3.locator("#attachment-list .uploaded-at")
    screenshot(floor3, "phone-floor3-attachment-caption")
    assert "处理任务时上传" in floor3.inner_text("#attachment-list")
    assert when.inner_text() == "2026年11月22日 10:00"
    assert when.evaluate("el => el.getClientRects().length") == 1


def _first_task(mall: str, headers: dict, number: str) -> dict:
    """The complaint's first task, once routing has made it (the services work in the background)."""
    for _ in range(120):
        found = httpx.get(f"{mall}/routing/tasks", params={"number": number}, headers=headers, timeout=60)
        if found.json()["items"]:
            return found.json()["items"][0]
        time.sleep(0.5)
    raise AssertionError(f"no task reached {number}")
