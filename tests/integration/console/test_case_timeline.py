"""The case page's timeline shows an operator's timer action in the reader's language: which timer,
the due times in the mall's clock (never ISO text), and the reason."""

from __future__ import annotations

import re


def test_a_fired_and_a_moved_timer_show_who_when_and_why_on_the_case_page(browser, mall):
    recorded = mall.record(merchant_code="M-3F-001")
    case = f"/routing/cases/{recorded['id']}"
    timers = {
        item["element_id"]: item for item in mall.api.get(f"{case}/timers", headers=mall.staff("ops")).json
    }
    fired = mall.api.post(f"{case}/timers/{timers['merchant_call_overdue']['id']}/fire",
                          json={"reason": "商户电话无人接听"}, headers=mall.staff("ops"))  # fmt: skip
    moved = mall.api.patch(f"{case}/timers/{timers['handle_floor_timeout']['id']}",
                           json={"due_at": "2026-11-22T20:00:00", "reason": "顾客情绪激动，今晚须处理"},
                           headers=mall.staff("store"))  # fmt: skip
    assert (fired.status_code, moved.status_code) == (200, 200)
    ops = browser()
    ops.login("ops")

    html = ops.get(f"/console/cases/{recorded['id']}").get_data(as_text=True)

    rows = re.findall(r'<tr data-kind="(timer_\w+)" data-element="(\w+)">(.*?)</tr>', html, re.S)
    assert [(kind, element) for kind, element, _ in rows] == [("timer_fired", "merchant_call_overdue"),
                                                              ("timer_moved", "handle_floor_timeout")]  # fmt: skip
    fired_row, moved_row = (re.sub(r"<[^>]+>", "", row) for _, _, row in rows)
    assert (
        "定时提前触发" in fired_row and "24小时内未致电商户" in fired_row and "商户电话无人接听" in fired_row
    )
    assert "营运部经理" in fired_row
    assert "原到期时间: 2026-11-23 10:00" in " ".join(fired_row.split())
    assert "新到期时间: 2026-11-22 20:00" in " ".join(moved_row.split()) and "店总" in moved_row
    assert not re.search(r"\d{4}-\d{2}-\d{2}T\d{2}:", fired_row + moved_row)  # no ISO text
