"""Canned replies in the console: the operations manager keeps them on their page (zh-CN, each refusal
beside its field); the desk picks one of the complaint's category on the reply task, edits it, and the
template chosen is recorded with the task's data and on the case's timeline."""

from __future__ import annotations

import re

from tests.support.system import csrf_token

NEW = {"category": "fee", "title": "停车费多收退还", "body": "您好，多收的停车费已原路退还。"}


def _complete_open_task(mall, username: str, element: str, **data) -> dict:
    [task] = [
        item
        for item in mall.api.get("/routing/tasks", headers=mall.staff(username)).json["items"]
        if item["element_id"] == element
    ]
    if data:
        done = mall.api.post(
            f"/routing/tasks/{task['id']}/complete", json={"data": data}, headers=mall.staff(username)
        )
        assert done.status_code == 200, done.json
        mall.settle()
    return task


def _reply_task(mall) -> dict:
    """A merchant complaint taken to the desk's reply: resolved by the floor, signed off, the merchant called."""
    mall.record()
    _complete_open_task(mall, "floor3", "handle_floor", outcome="resolved", resolution="商户同意换货并道歉")
    _complete_open_task(mall, "ops", "signoff_ops", signed_off=True, signoff_note="同意")
    _complete_open_task(
        mall,
        "desk",
        "merchant_call",
        called=True,
        merchant_signed_by="何勇",
        signed_at="2026-11-22",
        call_note="已换货",
    )
    return _complete_open_task(mall, "desk", "reply")


def test_the_reply_task_offers_the_canned_replies_of_the_complaints_category(browser, mall):
    task = _reply_task(mall)
    desk = browser()
    desk.login("desk")

    html = desk.get(f"/console/tasks/{task['id']}").get_data(as_text=True)

    select = re.search(r'<select name="f_reply_template"[^>]*>(.*?)</select>', html, re.S)
    assert select, html
    assert 'data-fills="f_reply_text"' in select.group(0)
    titles = re.findall(r'<option value="([^"]*)" data-body="([^"]*)"', select.group(1))
    assert [title for title, _ in titles] == ["商户致歉并办理换货", "商户致歉并退款"]  # merchant service only
    assert "同意为您办理换货" in titles[0][1]
    assert "不使用模板（直接填写）" in select.group(1)
    assert "所用答复模板" in html


def test_the_template_chosen_is_recorded_with_the_reply_and_on_the_timeline(browser, mall):
    task = _reply_task(mall)
    desk = browser()
    desk.login("desk")
    page = f"/console/tasks/{task['id']}"
    html = desk.get(page).get_data(as_text=True)

    done = desk.post(
        f"{page}/complete",
        data={
            "csrf_token": csrf_token(html),
            "action": "complete",
            "f_reply_template": "商户致歉并办理换货",
            "f_reply_text": "您好，商户已向您致歉，并已于今日为您换货。",
            "f_customer_view": "接受",
        },
    )
    timeline = mall.api.get(f"/routing/cases/{task['case_id']}/timeline", headers=mall.staff("ops")).json
    case_page = desk.get(f"/console/cases/{task['case_id']}").get_data(as_text=True)

    assert done.status_code == 302, done.get_data(as_text=True)
    [completed] = [
        step for step in timeline if step.get("task_id") == task["id"] and step["kind"] == "task_completed"
    ]
    assert completed["detail"]["data"]["reply_template"] == "商户致歉并办理换货"
    assert completed["detail"]["data"]["reply_text"] == "您好，商户已向您致歉，并已于今日为您换货。"
    assert "<b>所用答复模板</b>：商户致歉并办理换货" in case_page


def test_the_operations_manager_adds_edits_retires_and_restores_templates_in_chinese(browser, mall):
    ops = browser()
    ops.login("ops")

    listing = ops.get("/console/reply-templates").get_data(as_text=True)
    added = ops.form("/console/reply-templates", NEW, "/console/reply-templates")
    [template] = [
        item for item in mall.api.get("/intake/reply-templates?category=fee", headers=mall.staff("ops")).json
    ]
    edit_page = ops.get(f"/console/reply-templates/{template['id']}").get_data(as_text=True)
    saved = ops.form(
        f"/console/reply-templates/{template['id']}",
        {**NEW, "body": "您好，已退还。", "version": str(template["version"])},
        "/console/reply-templates",
    )
    retired = ops.form(f"/console/reply-templates/{template['id']}/retire", {}, "/console/reply-templates")
    offered = mall.api.get("/intake/reply-templates?category=fee", headers=mall.staff("desk")).json
    after_retiring = ops.get("/console/reply-templates").get_data(as_text=True)
    restored = ops.form(f"/console/reply-templates/{template['id']}/restore", {}, "/console/reply-templates")

    assert "答复模板" in listing and "商户服务" in listing and "商户致歉并办理换货" in listing
    assert added.status_code == saved.status_code == retired.status_code == restored.status_code == 302
    assert "修改模板" in edit_page and 'value="停车费多收退还"' in edit_page
    assert offered == []
    assert "已停用" in after_retiring and "恢复使用" in after_retiring
    final = mall.api.get("/intake/reply-templates?category=fee", headers=mall.staff("desk")).json
    assert [(item["body"], item["retired"]) for item in final] == [("您好，已退还。", False)]


def test_a_refused_template_names_the_field_in_chinese_and_keeps_what_was_typed(browser, mall):
    ops = browser()
    ops.login("ops")
    ops.form("/console/reply-templates", NEW, "/console/reply-templates")

    blank = ops.form("/console/reply-templates", {**NEW, "title": "  "}, "/console/reply-templates")
    taken = ops.form("/console/reply-templates", {**NEW, "body": "另一段"}, "/console/reply-templates")

    assert blank.status_code == taken.status_code == 400
    blank_html, taken_html = blank.get_data(as_text=True), taken.get_data(as_text=True)
    assert 'data-field="title">请填写模板名称（不超过60个字）' in blank_html
    assert 'data-field="title">该类别已有同名模板在用，请换一个名称' in taken_html
    assert "另一段" in taken_html
    assert len(mall.api.get("/intake/reply-templates?category=fee", headers=mall.staff("ops")).json) == 1


def test_the_page_is_for_the_operations_manager_and_admins_only(browser, mall):
    for username, expected in (("desk", 403), ("floor3", 403), ("admin", 200), ("ops", 200)):
        person = browser()
        person.login(username)
        assert person.get("/console/reply-templates").status_code == expected, username


def test_the_reply_task_shows_what_the_earlier_tasks_decided(browser, mall):
    task = _reply_task(mall)
    desk = browser()
    desk.login("desk")

    html = desk.get(f"/console/tasks/{task['id']}").get_data(as_text=True)

    earlier = re.search(r'<section class="card" id="earlier-decisions">(.*?)</section>', html, re.S)
    assert earlier, html
    text = re.sub(r"<[^>]+>", " ", earlier.group(1))
    assert (
        "此前的处理" in text and "商户同意换货并道歉" in text and "何勇" in text
    )  # the floor's and the call's
    assert "楼层主管处理商户投诉" in text and "resolution" not in text
    header = re.sub(r"<[^>]+>", " ", html.split('<div class="actions">')[0])
    # due at the end of the reply date, the mall's clock (its border timer tells the operations manager)
    assert "期限 2026年11月25日 23:59" in " ".join(header.split()) and "无期限" not in header


def test_the_callback_says_once_that_the_satisfaction_is_asked_only_of_a_customer_reached(browser, mall):
    task = _reply_task(mall)
    _complete_open_task(mall, "desk", "reply", reply_text="已换货")
    case = f"/routing/cases/{task['case_id']}"
    [timer] = [
        item
        for item in mall.api.get(f"{case}/timers", headers=mall.staff("ops")).json
        if item["element_id"] == "wait_callback"
    ]
    fired = mall.api.post(
        f"{case}/timers/{timer['id']}/fire", json={"reason": "演示"}, headers=mall.staff("ops")
    )
    assert fired.status_code == 200, fired.json
    mall.settle()
    callback = _complete_open_task(mall, "desk", "callback")
    desk = browser()
    desk.login("desk")

    html = desk.get(f"/console/tasks/{callback['id']}").get_data(as_text=True)

    label = re.search(r'<label class="field-boolean">顾客满意(.*?)</label>', html, re.S).group(1)
    hints = re.findall(r'<small class="muted [a-z-]+"[^>]*>([^<]*)</small>', label)
    assert hints == ["已联系到顾客为“是”时必填，否则不填"]
