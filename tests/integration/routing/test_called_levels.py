"""A complaint diagram split into levels: call activities to processes of the same file, and an
embedded sub-process. Their user tasks reach the queues, and a quality complaint runs to the end."""

from __future__ import annotations

import pytest
from lxml import etree

from tests.integration.routing.conftest import diagram, open_tasks, running_mall, task_id
from tests.support.mall import DESK, OPS, STORE
from tests.support.waiting import eventually


def _deploy(api, staff, bpmn: str, language: str = "en"):
    body = {"bpmn": bpmn, "bpmn_name": "levels_called.bpmn", "dmn": {}}
    return api.post(
        "/processes", json=body, headers={**staff("process_designer"), "Accept-Language": language}
    )


def _complete(api, staff, routing, case: str, element: str, role: str, data: dict) -> None:
    answer = api.post(
        f"/tasks/{task_id(routing, case, element)}/complete", json={"data": data}, headers=staff(role)
    )
    assert answer.status_code == 200, answer.json


def test_a_diagram_whose_levels_are_call_activities_deploys_passes_the_proof_and_runs_a_quality_complaint(
    routing, start, api, staff
):
    deployed = _deploy(api, staff, diagram("levels_called.bpmn"))
    assert deployed.status_code == 201, deployed.json
    assert deployed.json["handles_complaints"] and deployed.json["proof"]["passed"], deployed.json["proof"]

    case = start(number="TS-20261122-0101", category="quality", description="酸奶过期")
    assert open_tasks(routing, case) == ["handle_ops"]  # in the called process, its lane's queue
    _complete(api, staff, routing, case, "handle_ops", "operations_manager", {"outcome": "escalate"})
    assert open_tasks(routing, case) == ["handle_store"]
    _complete(api, staff, routing, case, "handle_store", "store_manager", {"resolution": "退货并赔偿"})
    assert open_tasks(routing, case) == ["reply"]  # inside the embedded sub-process
    _complete(api, staff, routing, case, "reply", "service_desk", {"reply_text": "已退款"})

    assert open_tasks(routing, case) == []
    answer = api.get(f"/cases/{case}", headers=staff("operations_manager")).json
    assert answer["status"] == "completed", answer


def test_a_call_to_a_process_not_in_the_file_is_refused_naming_the_call_activity(api, staff):
    broken = diagram("levels_called.bpmn").replace('calledElement="store_level"', 'calledElement="level_two"')

    for language, words in (
        ("en", "calls 'level_two', which is neither in this file nor a deployed process"),
        ("zh-CN", "既不在本文件中，也未部署"),
    ):
        problems = _deploy(api, staff, broken, language).json["errors"]["json"]["bpmn"]
        assert any(
            "“Store manager handles it” (store)" in p or "“Store manager handles it”（store）" in p
            for p in problems
        ), problems
        assert any(words in problem for problem in problems), problems


def test_a_user_task_in_a_sub_process_must_name_a_queue_like_any_other(api, staff):
    broken = diagram("levels_called.bpmn").replace(' camunda:candidateGroups="service_desk"', "")

    problems = _deploy(api, staff, broken).json["errors"]["json"]["bpmn"]

    assert any("“Reply to the customer” (reply)" in p and "belongs to no queue" in p for p in problems), (
        problems
    )


def _split(bpmn: str, level: str) -> tuple[str, str]:
    """The diagram without the process `level`, and a diagram of that process alone (executable)."""
    ns = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL"}
    main = etree.fromstring(bpmn.encode())
    alone = etree.fromstring(bpmn.encode())
    for node in main.xpath(
        "bpmn:process[@id=$id]|//bpmn:participant[@processRef=$id]", id=level, namespaces=ns
    ):
        node.getparent().remove(node)
    for node in alone.xpath("bpmn:collaboration|bpmn:process[@id!=$id]", id=level, namespaces=ns):
        node.getparent().remove(node)
    alone.xpath("bpmn:process", namespaces=ns)[0].set("isExecutable", "true")
    return etree.tostring(main, encoding="unicode"), etree.tostring(alone, encoding="unicode")


def test_a_call_activity_calls_a_process_deployed_on_its_own_as_it_was_when_the_caller_was_deployed(
    routing, start, api, staff
):
    main, first_level = _split(diagram("levels_called.bpmn"), "first_level")
    refused = _deploy(api, staff, main).json["errors"]["json"]["bpmn"]
    assert any("(first)" in problem and "'first_level'" in problem for problem in refused), refused

    level = _deploy(api, staff, first_level)
    assert level.status_code == 201 and not level.json["handles_complaints"], level.json
    deployed = _deploy(api, staff, main)
    assert deployed.status_code == 201 and deployed.json["proof"]["passed"], deployed.json
    assert deployed.json["called_processes"] == ["first_level"]
    renamed = first_level.replace('"handle_ops"', '"handle_ops_v2"').replace(
        ">handle_ops<", ">handle_ops_v2<"
    )
    assert _deploy(api, staff, renamed).status_code == 201

    case = start(number="TS-20261122-0102", category="quality")
    assert open_tasks(routing, case) == ["handle_ops"]  # what the complaint version was proved with
    _complete(api, staff, routing, case, "handle_ops", "operations_manager", {"outcome": "resolved"})
    _complete(api, staff, routing, case, "reply", "service_desk", {"reply_text": "已处理"})
    assert api.get(f"/cases/{case}", headers=staff("operations_manager")).json["status"] == "completed"

    again = _deploy(api, staff, main)  # the same file, now calling the new version of the level
    assert again.status_code == 201 and again.json["version"] == 2, again.json
    assert open_tasks(routing, start(number="TS-20261122-0103", category="quality")) == ["handle_ops_v2"]


@pytest.fixture
def levels_mall(settings, policy, clock, tokens):
    """Intake and routing wired as in the one-process run, with the levels diagram as the complaint process."""
    body = {"bpmn": diagram("levels_called.bpmn"), "bpmn_name": "levels_called.bpmn", "dmn": {}}
    yield from running_mall(settings, policy, clock, tokens, body)


def test_a_yogurt_quality_complaint_posted_to_intake_runs_through_the_called_levels_to_its_end(levels_mall):
    case = levels_mall.complain(
        category="quality",
        description="酸奶过期三天仍在售，孩子喝后腹泻",
        customer_request=["refund", "compensation"],
        amount="12.80",
    )
    eventually(lambda: case.open_tasks(OPS) == ["handle_ops"], timeout=30)

    case.complete("handle_ops", OPS, outcome="escalate")
    case.complete("handle_store", STORE, resolution="下架同批次酸奶，退款并赔偿")
    case.complete("reply", DESK, reply_text="已退款并赔偿，同批次商品已下架")

    assert case.created() == ["handle_ops", "handle_store", "reply"]
    assert case.status() == "completed"
