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

    first.locator("a.task-link").tap()
    countdown = floor3.locator("#task-title ~ p .countdown")
    countdown.wait_for()
    assert countdown.inner_text() and countdown.evaluate("el => el.getClientRects().length") == 1

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


CHARTS = """frame => [...frame.contentDocument.querySelectorAll('.chart')].map(card => ({
  drawn: card.querySelector('svg').getBoundingClientRect().width,
  units: card.querySelector('svg').viewBox.baseVal.width,
  card: card.clientWidth,
  scrolls: card.scrollWidth > card.clientWidth,
}))"""


def test_a_managers_report_charts_read_at_their_text_size_on_a_phone_and_fill_a_desktops_card(
    phone, desk_api, mall
):
    desk_api()
    ops = phone("ops")

    ops.goto(f"{mall}/console/reports/monthly?month=2026-11")
    ops.wait_for_selector("#report-frame[data-ready=true]")
    on_phone = ops.locator("#report-frame").evaluate(CHARTS)
    sideways = ops.evaluate("document.documentElement.scrollWidth > window.innerWidth")
    screenshot(ops, "phone-ops-monthly-report")
    ops.set_viewport_size({"width": 1366, "height": 900})
    ops.reload()
    ops.wait_for_selector("#report-frame[data-ready=true]")
    on_desktop = ops.locator("#report-frame").evaluate(CHARTS)

    assert len(on_phone) == 3 and not sideways  # the chart's card scrolls, not the page
    for chart in on_phone:  # the drawing's 9-point text is drawn at 12 px or more
        assert chart["drawn"] / chart["units"] * 9 >= 12 and chart["scrolls"], chart
    for chart in on_desktop:  # as before: scaled to its card, nothing to scroll
        assert chart["drawn"] > chart["units"] and not chart["scrolls"], chart


def test_a_supervisor_escalating_on_a_phone_is_asked_why_before_anything_is_sent(phone, desk_api, mall):
    recorded = desk_api()
    floor3 = phone("floor3")
    reload_until(floor3, f"{mall}/console/queue", f"#queue tr[data-number='{recorded['number']}']")
    floor3.locator(f"#queue tr[data-number='{recorded['number']}'] a.task-link").first.tap()
    floor3.wait_for_selector("#task-form")
    reason = floor3.locator("label.field-string:has([name=f_escalation_reason])")
    assert not reason.is_visible()  # nothing to say until escalating

    floor3.tap("#escalate")  # the first press asks why, sends nothing and asks no confirmation
    assert reason.is_visible() and floor3.evaluate("document.activeElement.name") == "f_escalation_reason"
    assert "/tasks/" in floor3.url
    screenshot(floor3, "phone-floor3-escalate-reason")
    floor3.fill("[name=f_escalation_reason]", "商户拒不配合，需营运部出面协调")
    floor3.once("dialog", lambda dialog: dialog.accept())  # 确定上报上一级？
    floor3.tap("#escalate")
    floor3.wait_for_url("**/console/queue?done=*")
