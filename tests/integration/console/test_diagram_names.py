"""What a designer names in the diagram shows everywhere: a task renamed (in Chinese, name.zh-CN)
shows under its new name in the queue, on its page and on the case's timeline; form labels and
options come from the diagram too, in the reader's language."""

from __future__ import annotations

import re

from tests.support.mall import mall_diagram


def _renamed_diagram() -> dict:
    body = mall_diagram()
    body["bpmn"] = body["bpmn"].replace('value="楼层主管处理商户投诉"', 'value="楼管跟进商户（新名称）"', 1)
    body["bpmn"] = body["bpmn"].replace(
        '<camunda:property id="option.escalate.zh-CN" value="上报上一级"/>',
        '<camunda:property id="option.escalate.zh-CN" value="交给上一级处理"/>',
    )
    return body


def test_a_task_renamed_in_the_diagram_shows_its_new_name_in_the_queue_the_task_and_the_timeline(
    browser, mall
):
    deployed = mall.api.post("/routing/processes", json=_renamed_diagram(), headers=mall.staff("designer"))
    assert deployed.status_code == 201, deployed.json
    recorded = mall.record()
    floor3 = browser()
    floor3.login("floor3")

    queue = floor3.get("/console/queue").get_data(as_text=True)
    [task] = mall.api.get("/routing/tasks", headers=mall.staff("floor3")).json["items"]
    page = floor3.get(f"/console/tasks/{task['id']}").get_data(as_text=True)
    ops = browser()
    ops.login("ops")
    case = ops.get(f"/console/cases/{recorded['id']}").get_data(as_text=True)

    assert "楼管跟进商户（新名称）" in queue and "楼层主管处理商户投诉" not in queue
    assert "楼管跟进商户（新名称）" in page and "交给上一级处理" in page
    assert (
        task["titles"]["zh-CN"] == "楼管跟进商户（新名称）" and task["title"] == "Handle merchant complaint"
    )
    timeline = re.search(r'<table class="list timeline[^"]*" id="timeline">.*?</table>', case, re.S).group(0)
    assert "楼管跟进商户（新名称）" in timeline


def test_the_form_speaks_the_readers_language_from_the_diagram(browser, mall):
    mall.record()
    [task] = mall.api.get("/routing/tasks", headers=mall.staff("floor3")).json["items"]
    floor3 = browser()
    floor3.login("floor3")

    chinese = floor3.get(f"/console/tasks/{task['id']}").get_data(as_text=True)
    floor3.get("/console/lang/en")
    english = floor3.get(f"/console/tasks/{task['id']}").get_data(as_text=True)

    assert "请求协助的部门" in chinese and "Department asked to act" not in chinese
    assert "请其他部门协助" in chinese and "ask_department" not in re.sub(
        r'value="[^"]*"|"ask_department"', "", chinese
    )
    assert "Department asked to act" in english and "Handle merchant complaint" in english
