"""The task page's form: the department asked is one of the mall's departments, named in Chinese, and
any other name is refused naming the field; a short text is one line."""

from __future__ import annotations

import re

from tests.support.system import csrf_token


def _floor_task(mall) -> dict:
    [task] = mall.api.get("/routing/tasks", headers=mall.staff("floor3")).json["items"]
    assert task["element_id"] == "handle_floor"
    return task


def test_the_department_asked_is_a_choice_of_the_malls_departments_named_in_chinese(browser, mall):
    mall.record()
    task = _floor_task(mall)
    departments = mall.api.get("/intake/reference/departments", headers=mall.staff("floor3")).json
    floor3 = browser()
    floor3.login("floor3")

    html = floor3.get(f"/console/tasks/{task['id']}").get_data(as_text=True)

    listed = re.search(r'<select name="f_department_asked">(.*?)</select>', html, re.S).group(1)
    offered = re.findall(r'<option value="([^"]+)" >([^<]+)</option>', listed)
    # the diagram's choices are the mall's departments, by their codes and Chinese names
    assert dict(offered) == {item["code"]: item["name"] for item in departments}
    assert len(offered) == len(departments) >= 3
    assert '<textarea name="f_department_request"' in html  # a field offering no list stays as it was


def test_a_listed_department_completes_the_task_and_any_other_name_is_refused_in_chinese(browser, mall):
    mall.record()
    mall.record()
    first, second = mall.api.get("/routing/tasks", headers=mall.staff("floor3")).json["items"]
    floor3 = browser()
    floor3.login("floor3")

    answers, landed = [], []
    for task, asked in ((first, "engineering"), (second, "不存在的部门")):
        page = f"/console/tasks/{task['id']}"
        html = floor3.get(page).get_data(as_text=True)
        answers.append(
            floor3.post(
                f"{page}/complete",
                data={
                    "csrf_token": csrf_token(html),
                    "action": "complete",
                    "f_outcome": "ask_department",
                    "f_department_asked": asked,
                    "f_department_request": "请派人检修门口地砖",
                },
            )
        )
        if answers[-1].status_code == 302:  # the page it lands on, as the browser follows it
            landed.append(floor3.get(answers[-1].headers["Location"]).get_data(as_text=True))
    done, refused = answers

    assert done.status_code == 302, done.get_data(as_text=True)
    # the supervisor reads where the case went, not only that the task is done
    [moved] = re.findall(r'<p class="notice">(案件现在在：.*?)</p>', landed[0])
    assert "跟踪协助部门的处理结果（服务台）" in moved and "engineering" not in moved
    timeline = mall.api.get(f"/routing/cases/{first['case_id']}/timeline", headers=mall.staff("ops")).json
    [completed] = [
        step for step in timeline if step.get("task_id") == first["id"] and step["kind"] == "task_completed"
    ]
    assert completed["detail"]["data"]["department_asked"] == "engineering"
    text = refused.get_data(as_text=True)
    assert refused.status_code == 400
    assert "<b>请求协助的部门</b>：应为以下之一：" in text and "工程部" in text, text
    assert "engineering" not in re.search(r'<p class="error" id="form-errors">(.*?)</p>', text, re.S).group(1)
    assert [
        task["id"] for task in mall.api.get("/routing/tasks", headers=mall.staff("floor3")).json["items"]
    ] == [second["id"]]


def test_a_fields_bounds_from_the_diagram_reach_the_form_and_a_text_too_long_is_refused_in_chinese(
    browser, mall
):
    from services.runner.allinone import MALL_DIAGRAM

    text = MALL_DIAGRAM.read_text(encoding="utf-8")
    start = text.index('<camunda:formField id="resolution"', text.index('<bpmn:userTask id="handle_floor"'))
    after = text.index("</camunda:properties>", start) + len("</camunda:properties>")
    limit = '<camunda:validation><camunda:constraint name="maxlength" config="10"/></camunda:validation>'
    triage = (MALL_DIAGRAM.parent / "triage.dmn").read_text(encoding="utf-8")
    body = {
        "bpmn": text[:after] + limit + text[after:],
        "dmn": {"triage.dmn": triage},
        "note": "处理说明限十字",
    }
    deployed = mall.api.post("/routing/processes", json=body, headers=mall.staff("designer"))
    assert deployed.status_code == 201, deployed.json
    mall.record()
    task = _floor_task(mall)
    floor3 = browser()
    floor3.login("floor3")
    page = f"/console/tasks/{task['id']}"

    html = floor3.get(page).get_data(as_text=True)
    answer = floor3.post(
        f"{page}/complete",
        data={
            "csrf_token": csrf_token(html),
            "f_outcome": "resolved",
            "f_resolution": "已与顾客协商一致并办理了退款手续",
        },
    )

    # bounded at ten characters: one line (an unbounded resolution is a box)
    assert re.search(r'<input type="text" name="f_resolution"[^>]* maxlength="10"', html)
    assert answer.status_code == 400 and "最多 10 个字" in answer.get_data(as_text=True)


def test_the_case_page_leads_to_a_task_only_for_those_who_work_its_queue(browser, mall):
    """The operations manager reads a floor's task on the case page (where, with whom, due when) but
    is not sent to a task page that would answer 404; the floor's supervisor is."""
    recorded = mall.record()
    task = _floor_task(mall)
    ops, floor3 = browser(), browser()
    ops.login("ops")
    floor3.login("floor3")

    for_ops = ops.get(f"/console/cases/{recorded['id']}").get_data(as_text=True)
    for_floor = floor3.get(f"/console/cases/{recorded['id']}").get_data(as_text=True)

    listed = re.search(r'<ul id="open-tasks">(.*?)</ul>', for_ops, re.S).group(1)
    assert f"/console/tasks/{task['id']}" not in for_ops
    assert 'class="not-mine"' in listed and "仅供查看" in listed and "期限" in listed
    assert "楼层主管 三层" in listed
    assert f'href="/console/tasks/{task["id"]}"' in for_floor
    mine = re.search(rf'<li><a href="/console/tasks/{task["id"]}">[^<]*</a>[^<]*</li>', for_floor)
    assert mine and "仅供查看" not in mine.group(0)
    assert ops.get(f"/console/tasks/{task['id']}").status_code == 404


def test_a_short_text_such_as_who_signed_is_one_line_and_a_long_one_a_box(browser, mall):
    recorded = mall.record()
    [call] = [
        task
        for task in mall.api.get("/routing/tasks", headers=mall.staff("desk")).json["items"]
        if task["number"] == recorded["number"] and task["element_id"] == "merchant_call"
    ]
    desk, floor3 = browser(), browser()
    desk.login("desk")
    floor3.login("floor3")

    calling = desk.get(f"/console/tasks/{call['id']}").get_data(as_text=True)
    handling = floor3.get(f"/console/tasks/{_floor_task(mall)['id']}").get_data(as_text=True)

    assert re.search(r'<input type="text" name="f_merchant_signed_by"[^>]* maxlength="40"', calling)
    assert '<textarea name="f_call_note"' in calling  # unbounded: what the merchant said
    assert '<textarea name="f_resolution"' in handling


def test_escalating_is_the_confirmed_button_alone_and_it_sends_the_case_one_level_up(browser, mall):
    recorded = mall.record()
    task = _floor_task(mall)
    floor3 = browser()
    floor3.login("floor3")
    page = f"/console/tasks/{task['id']}"

    html = floor3.get(page).get_data(as_text=True)
    outcome = re.search(r'<select name="f_outcome">.*?</select>', html, re.S).group(0)
    button = re.search(r'<button id="escalate"[^>]*>(.*?)</button>', html, re.S)
    unexplained = floor3.post(
        f"{page}/complete", data={"csrf_token": csrf_token(html), "f_outcome": "", "action": "escalate"}
    )
    answer = floor3.post(
        f"{page}/complete",
        data={
            "csrf_token": csrf_token(html),
            "f_outcome": "",
            "f_escalation_reason": "商户拒不配合，需营运部出面",
            "action": "escalate",
        },
    )
    mall.settle()
    ops = mall.api.get("/routing/tasks", headers=mall.staff("ops")).json["items"]

    assert re.findall(r'<option value="([^"]*)"', outcome) == ["", "resolved", "ask_department"]
    assert button.group(1) == "上报上一级" and 'data-confirm="确定上报上一级？' in button.group(0)
    # a press without the reason comes back with it named, the form set to escalate again
    refused = unexplained.get_data(as_text=True)
    assert unexplained.status_code == 400 and "上报原因" in refused and 'data-escalating="true"' in refused
    assert answer.status_code == 302
    assert [(item["number"], item["element_id"]) for item in ops] == [(recorded["number"], "handle_ops")]


def test_the_task_pages_countdown_counts_from_the_malls_clock(browser, mall):
    """The page carries the server's time, as the queue does: a staff PC's clock that is off does
    not make a task look overdue, or not."""
    mall.record()
    task = _floor_task(mall)
    floor3 = browser()
    floor3.login("floor3")

    html = floor3.get(f"/console/tasks/{task['id']}").get_data(as_text=True)

    assert re.search(r'<p data-now="2026-11-22T02:00:00(\.0+)?\+00:00">', html)
    assert f'<span class="countdown" data-due="{task["due_at"]}">' in html
