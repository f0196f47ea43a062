"""A refused diagram is told in the designer's words: every problem at once, each with its element,
what is wrong and what to do, in Chinese or English; timers written as a modeler writes them."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.integration.routing.conftest import diagram, open_tasks

POLICY_TIMER = '"PT" + str(policy["callback_from_seconds"]) + "S"'


def _body(bpmn: str) -> dict:
    return {"bpmn": bpmn, "dmn": {"triage_v1.dmn": diagram("triage_v1.dmn")}}


def _with_callback_timer(expression: str) -> str:
    return diagram("complaint_v1.bpmn").replace(POLICY_TIMER, expression)


def _deploy(api, staff, bpmn: str, language: str = "en"):
    return api.post(
        "/processes", json=_body(bpmn), headers={**staff("process_designer"), "Accept-Language": language}
    )


def test_every_problem_is_named_at_once(api, staff):
    broken = (
        diagram("complaint_v1.bpmn")
        .replace(
            '<bpmn:lane id="Lane_operations_manager" name="operations_manager">',
            '<bpmn:lane id="Lane_operations_manager" name="janitors">',
        )
        .replace("callback_attempts_made", "__class__", 1)
        .replace('targetRef="callback_gw"', 'targetRef="nowhere"')
    )

    answer = _deploy(api, staff, broken)

    assert answer.status_code == 400
    problems = answer.json["errors"]["json"]["bpmn"]
    assert len(problems) >= 2, problems
    assert any("nowhere" in problem and "not in the diagram" in problem for problem in problems)
    assert answer.json["message"].startswith("diagram refused, ")


def test_a_condition_on_an_option_the_form_does_not_offer_is_refused_naming_the_options(api, staff):
    """outcome == "solved" never holds: every resolution would have taken the default flow (escalate)."""
    broken = diagram("complaint_v1.bpmn").replace('outcome == "resolved"', 'outcome == "solved"', 1)

    answer = _deploy(api, staff, broken, "zh-CN")

    assert answer.status_code == 400
    [problem] = answer.json["errors"]["json"]["bpmn"]
    assert "'outcome' 与 'solved' 比较" in problem and "resolved" in problem, problem


def test_a_form_field_without_a_label_is_refused_in_the_designers_words(api, staff):
    """Staff would have read `resolution` (or, with no id either, a field titled —) on their task."""
    broken = diagram("complaint_v1.bpmn").replace(
        '<camunda:formField id="resolution" label="Resolution" type="string" />',
        '<camunda:formField id="resolution" type="string" />',
    )

    answer = _deploy(api, staff, broken, "zh-CN")

    assert answer.status_code == 400
    [problem] = answer.json["errors"]["json"]["bpmn"]
    assert "字段 resolution 没有标签，员工会看到它的 ID" in problem, problem


def test_a_triage_rule_naming_a_queue_the_mall_does_not_have_is_refused(api, staff):
    body = _body(diagram("complaint_v1.bpmn"))
    body["dmn"]["triage_v1.dmn"] = body["dmn"]["triage_v1.dmn"].replace(
        '"floor_supervisor"', '"floor_supervisr"'
    )

    answer = api.post("/processes", json=body, headers=staff("process_designer"))

    assert answer.status_code == 400
    [problem] = answer.json["errors"]["json"]["bpmn"]
    assert "'floor_supervisr', which is not one of the mall's queues" in problem, problem


def test_the_lane_and_the_timer_problems_come_together_each_with_what_to_do(api, staff):
    broken = (
        diagram("complaint_v1.bpmn")
        .replace(
            '<bpmn:lane id="Lane_operations_manager" name="operations_manager">',
            '<bpmn:lane id="Lane_operations_manager" name="janitors">',
        )
        .replace(POLICY_TIMER, 'open("/etc/passwd").read()')
    )

    problems = _deploy(api, staff, broken).json["errors"]["json"]["bpmn"]

    lane = [problem for problem in problems if "Lane_operations_manager" in problem]
    timer = [problem for problem in problems if "(wait_callback)" in problem]
    assert lane and "the lane 'janitors' is not one of the mall's queues" in lane[0]
    assert timer and "open is not allowed" in timer[0] and "no imports" in timer[0]
    assert not any("None" in problem for problem in problems)


def test_problems_are_told_in_chinese_to_a_chinese_designer(api, staff):
    broken = diagram("complaint_v1.bpmn").replace(
        '<bpmn:lane id="Lane_operations_manager" name="operations_manager">',
        '<bpmn:lane id="Lane_operations_manager" name="janitors">',
    )

    problems = _deploy(api, staff, broken, "zh-CN,zh;q=0.9").json["errors"]["json"]["bpmn"]

    assert any("泳道 'janitors' 不是商场的任务队列" in problem for problem in problems), problems
    assert all("元素" in problem for problem in problems)


@pytest.mark.parametrize(
    ("expression", "said"),
    [
        ("PT12HH", "既不是 ISO 8601 格式，也不是 Python 表达式"),
        ("PT1.5H", "PT1H30M（1 小时 30 分）"),
        ("12小时", "请按 ISO 8601 书写：PT12H（12 小时）"),
        ("PT0S", "在任务开始的同时到期"),
    ],
)
def test_a_timer_meant_as_a_duration_but_not_written_as_one_is_refused_saying_how_to_write_it(
    api, staff, expression, said
):
    answer = _deploy(api, staff, _with_callback_timer(expression), "zh-CN")

    assert answer.status_code == 400
    [problem] = answer.json["errors"]["json"]["bpmn"]
    assert said in problem and "Did you mean" not in problem, problem


@pytest.mark.parametrize(
    ("expression", "kind"),
    [
        ("0 0 9 * * ?", "a cron expression"),
        ("${callbackDue}", "a JUEL/FEEL expression"),
    ],
    ids=["cron", "juel"],
)
def test_a_cron_or_juel_timer_is_refused_for_what_it_is_never_called_python(api, staff, expression, kind):
    answer = _deploy(api, staff, _with_callback_timer(expression))

    assert answer.status_code == 400
    [problem] = answer.json["errors"]["json"]["bpmn"]
    assert (
        "(wait_callback)" in problem
        and kind in problem
        and "write an ISO 8601 duration such as PT24H" in problem
    )
    assert "Python" not in problem.split(";")[0]


def test_a_timer_written_as_iso_8601_text_deploys_and_fires_when_it_says(routing, start, api, staff, clock):
    deployed = _deploy(api, staff, _with_callback_timer("PT6H"))
    case = start()
    floor = staff("floor_supervisor", floors=["3F"])
    task = api.get("/tasks", headers=floor).json["items"][0]
    api.post(f"/tasks/{task['id']}/complete", json={"data": {"outcome": "resolved"}}, headers=floor)
    reply = api.get("/tasks", headers=staff("service_desk")).json["items"][0]
    api.post(
        f"/tasks/{reply['id']}/complete",
        json={"data": {"reply_text": "已处理"}},
        headers=staff("service_desk"),
    )

    clock.advance(timedelta(hours=5, minutes=59))
    routing.scheduler().tick()
    early = open_tasks(routing, case)
    clock.advance(timedelta(minutes=2))
    routing.scheduler().tick()

    assert deployed.status_code == 201, deployed.json
    assert early == [] and open_tasks(routing, case) == ["callback"]


def test_a_user_task_with_no_lane_and_no_candidate_group_is_told_so(api, staff):
    loose = diagram("complaint_v1.bpmn").replace("<bpmn:flowNodeRef>reply</bpmn:flowNodeRef>", "")
    loose = loose.replace(
        '<bpmn:userTask id="reply" name="Reply to customer" camunda:candidateGroups="service_desk">',
        '<bpmn:userTask id="reply" name="Reply to customer">',
    )

    [problem] = _deploy(api, staff, loose).json["errors"]["json"]["bpmn"]

    assert "“Reply to customer” (reply)" in problem and "belongs to no queue" in problem


def test_a_diagram_with_no_executable_process_says_where_to_tick(api, staff):
    answer = _deploy(
        api, staff, diagram("complaint_v1.bpmn").replace('isExecutable="true"', 'isExecutable="false"')
    )

    assert answer.status_code == 400
    assert "tick 'Executable'" in answer.json["errors"]["json"]["bpmn"][0]


def test_a_business_rule_task_naming_no_decision_is_a_400_not_a_500(api, staff):
    answer = _deploy(api, staff, diagram("complaint_v1.bpmn").replace(' camunda:decisionRef="triage"', ""))

    assert answer.status_code == 400, answer.json
    assert answer.json["errors"]["json"]["bpmn"]


def test_a_cycle_written_in_a_duration_timer_is_told_to_change_the_timer_type(api, staff):
    [problem] = _deploy(api, staff, _with_callback_timer("R3/PT1H")).json["errors"]["json"]["bpmn"]

    assert "(wait_callback)" in problem and "is a cycle, but it is set as a duration timer" in problem


def test_lanes_and_groups_named_as_the_console_names_the_queues_are_those_queues(routing, start, api, staff):
    """A lane drawn 楼层主管 in bpmn.io is the floor supervisors' queue; the version keeps the code."""
    chinese = (
        diagram("complaint_v1.bpmn")
        .replace(
            '<bpmn:lane id="Lane_floor_supervisor" name="floor_supervisor">',
            '<bpmn:lane id="Lane_floor_supervisor" name="楼层主管">',
        )
        .replace('camunda:candidateGroups="floor_supervisor"', 'camunda:candidateGroups="楼层主管"')
    )
    assert "楼层主管" in chinese

    deployed = _deploy(api, staff, chinese, "zh-CN")
    start()

    assert deployed.status_code == 201, deployed.json
    [task] = api.get("/tasks", headers=staff("floor_supervisor", floors=["3F"])).json["items"]
    assert task["queue"] == "floor_supervisor"
    kept = api.get("/processes/complaint/1/bpmn", headers=staff("process_designer")).get_data(as_text=True)
    assert 'name="floor_supervisor"' in kept and "楼层主管" not in kept
