"""A task opened again after it was done (from a notice, the browser's history) says it is done, by
whom, when and with what outcome, and links to its case: no form, no claim, no countdown. Acting on
it anyway lands back on that page with a plain sentence, never a conflict page."""

from __future__ import annotations

import re

from tests.support.system import csrf_token


def _done_floor_task(browser, mall):
    mall.record()
    [task] = mall.api.get("/routing/tasks", headers=mall.staff("floor3")).json["items"]
    floor3 = browser()
    floor3.login("floor3")
    page = f"/console/tasks/{task['id']}"
    html = floor3.get(page).get_data(as_text=True)
    done = floor3.post(
        f"{page}/complete",
        data={
            "csrf_token": csrf_token(html),
            "action": "complete",
            "f_outcome": "resolved",
            "f_resolution": "已为顾客换货",
        },
    )
    assert done.status_code == 302, done.get_data(as_text=True)
    mall.settle()
    return floor3, task, page, html


def test_a_done_task_says_who_finished_it_and_when_with_no_form_claim_or_countdown(browser, mall):
    floor3, task, page, _ = _done_floor_task(browser, mall)

    answer = floor3.get(page)
    html = answer.get_data(as_text=True)

    assert answer.status_code == 200
    assert 'id="task-closed"' in html and "此任务已完成" in html
    assert re.search(r"由 三楼楼管 王强 于 \d{4}年\d{1,2}月\d{1,2}日 \d{2}:\d{2} 完成。", html), html
    assert "已为顾客换货" in html  # what it decided, as the timeline keeps it
    assert f'href="/console/cases/{task["case_id"]}"' in html
    for live in ('id="task-form"', 'id="claim"', 'id="unclaim"', 'class="countdown"', "待认领"):
        assert live not in html, live


def test_submitting_or_releasing_a_done_task_again_goes_back_to_its_page_with_a_plain_sentence(browser, mall):
    floor3, _task, page, html = _done_floor_task(browser, mall)

    for action, data in (
        ("complete", {"action": "complete", "f_outcome": "resolved", "f_resolution": "再次提交"}),
        ("unclaim", {}),
        ("claim", {}),
    ):
        answer = floor3.post(f"{page}/{action}", data={"csrf_token": csrf_token(html), **data})
        assert answer.status_code == 302, (action, answer.get_data(as_text=True))
        assert answer.headers["Location"].endswith(page), action
        shown = floor3.get(page).get_data(as_text=True)
        assert "此任务已处理完毕，您刚才的操作没有保存。" in shown, action
        assert "409" not in shown and "出错了" not in shown, action
