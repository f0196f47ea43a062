"""The proof before every deploy: a version whose probe complaints end in an incident or get stuck
is refused, every problem named with its probe, path and element; intake goes on on the active
version. A designer can run the proof without deploying."""

from __future__ import annotations

import re

from tests.integration.routing.conftest import diagram, open_tasks
from tests.support.mall import mall_diagram


def _body(bpmn: str) -> dict:
    return {"bpmn": bpmn, "dmn": {"triage_v1.dmn": diagram("triage_v1.dmn")}}


def _without_outgoing_flows(bpmn: str, gateway: str) -> str:
    """The diagram with every flow leaving `gateway` deleted, as a designer deletes them in a modeler."""
    flows = re.findall(rf'<bpmn:sequenceFlow id="([^"]+)"[^>]*sourceRef="{gateway}"', bpmn)
    for flow in flows:
        bpmn = re.sub(rf'\s*<bpmn:sequenceFlow id="{flow}"[^>]*/>', "", bpmn)
        bpmn = re.sub(
            rf'\s*<bpmn:sequenceFlow id="{flow}"[^>]*>.*?</bpmn:sequenceFlow>', "", bpmn, flags=re.S
        )
        bpmn = bpmn.replace(f"<bpmn:outgoing>{flow}</bpmn:outgoing>", "")
        bpmn = re.sub(rf'\s*<bpmndi:BPMNEdge id="{flow}_di".*?</bpmndi:BPMNEdge>', "", bpmn, flags=re.S)
    return re.sub(rf'(<bpmn:exclusiveGateway id="{gateway}"[^>]*?) default="[^"]+"', r"\1", bpmn)


def test_a_gateway_left_without_its_flows_is_refused_naming_it_and_intake_goes_on(routing, start, api, staff):
    designer = staff("process_designer")
    assert (
        api.post("/processes", json=_body(diagram("complaint_v1.bpmn")), headers=designer).status_code == 201
    )

    refused = api.post(
        "/processes",
        json=_body(_without_outgoing_flows(diagram("complaint_v1.bpmn"), "route_gw")),
        headers=designer,
    )
    case = start()

    assert refused.status_code == 400, refused.json
    problems = refused.json["errors"]["json"]["bpmn"]
    assert problems and all("route_gw" in problem and "incident" in problem for problem in problems)
    assert any("probe 'category quality, a shop named'" in problem for problem in problems)
    assert "Triage complaint" in problems[0] or "start" in problems[0]
    listed = api.get("/processes", headers=designer)
    assert [v["version"] for v in listed.json] == [1], listed.json
    assert open_tasks(routing, case) == ["handle_floor"]  # a complaint after it reaches its first task


def test_a_case_that_can_wait_for_nothing_is_refused_as_stuck(api, staff):
    stuck = (
        diagram("complaint_v1.bpmn")
        .replace(
            '<bpmn:timerEventDefinition id="TimerEventDefinition_wait_callback">',
            '<bpmn:signalEventDefinition id="never" signalRef="Signal_never" /><!--',
        )
        .replace(
            "</bpmn:timerEventDefinition>\n    </bpmn:intermediateCatchEvent>",
            "-->\n    </bpmn:intermediateCatchEvent>",
            1,
        )
    )
    stuck = stuck.replace(
        "</bpmn:process>", '</bpmn:process>\n  <bpmn:signal id="Signal_never" name="never" />'
    )

    answer = api.post("/processes/proof", json=_body(stuck), headers=staff("process_designer"))

    assert answer.status_code == 200, answer.json
    assert answer.json["passed"] is False
    kinds = {(problem["kind"], problem["element_id"]) for problem in answer.json["problems"]}
    assert ("stuck", "wait_callback") in kinds
    [problem] = [each for each in answer.json["problems"] if each["element_id"] == "wait_callback"][:1]
    assert problem["path"][0] == "start" and any("Reply" in step for step in problem["path"])


def test_the_shipped_diagram_passes_its_proof_reaching_nearly_every_element(api, staff):
    answer = api.post("/processes/proof", json=mall_diagram(), headers=staff("process_designer"))

    assert answer.status_code == 200, answer.json
    proof = answer.json
    assert proof["passed"] is True and proof["problems"] == []
    assert proof["coverage"] >= 0.95, proof["unreached"]
    assert proof["probes"] >= 19 and proof["complete"] is True


def test_a_deploy_answers_how_the_version_was_proved(api, staff):
    deployed = api.post(
        "/processes", json=_body(diagram("complaint_v1.bpmn")), headers=staff("process_designer")
    )

    assert deployed.status_code == 201
    assert deployed.json["proof"]["passed"] is True and deployed.json["proof"]["coverage"] == 1.0


def test_only_designers_prove_and_another_process_has_nothing_to_prove(api, staff):
    other = diagram("complaint_v1.bpmn").replace('<bpmn:process id="complaint"', '<bpmn:process id="invoice"')

    refused = api.post(
        "/processes/proof", json=_body(diagram("complaint_v1.bpmn")), headers=staff("operations_manager")
    )
    nothing = api.post("/processes/proof", json=_body(other), headers=staff("process_designer"))

    assert refused.status_code == 403
    assert nothing.status_code == 400 and "invoice" in nothing.json["message"]


def test_the_proofs_problems_are_told_in_chinese_to_a_chinese_designer(api, staff):
    broken = _without_outgoing_flows(diagram("complaint_v1.bpmn"), "route_gw")
    headers = {**staff("process_designer"), "Accept-Language": "zh-CN"}

    problems = api.post("/processes", json=_body(broken), headers=headers).json["errors"]["json"]["bpmn"]

    assert any(problem.startswith("探测投诉“商品质量（指明商户）”：步骤出错") for problem in problems), (
        problems
    )
    assert all("（route_gw）" in problem and "路径：" in problem for problem in problems)


def test_a_dry_runs_problems_carry_the_sentence_a_refused_deploy_gives_in_the_designers_language(api, staff):
    broken = _without_outgoing_flows(diagram("complaint_v1.bpmn"), "route_gw")
    headers = {**staff("process_designer"), "Accept-Language": "zh-CN"}

    proved = api.post("/processes/proof", json=_body(broken), headers=headers).json
    refused = api.post("/processes", json=_body(broken), headers=headers).json["errors"]["json"]["bpmn"]

    assert proved["passed"] is False
    assert [problem["sentence"] for problem in proved["problems"]] == refused


def test_a_chinese_designers_proof_names_its_elements_in_chinese(api, staff):
    """The elements a proof could not reach, and where a problem stopped, by the names a Chinese
    reader gives them (name.zh-CN), as the refusal's sentence does."""
    headers = {**staff("process_designer"), "Accept-Language": "zh-CN"}
    cut = _without_outgoing_flows(mall_diagram()["bpmn"], "reached_gw")
    answer = api.post("/processes/proof", json={**mall_diagram(), "bpmn": cut}, headers=headers)

    proof = answer.json
    assert answer.status_code == 200 and proof["unreached"], proof
    drawn = [
        item
        for item in proof["unreached"]
        if item["name"] and not re.search(r"[\u4e00-\u9fff]", item["name"])
    ]
    assert drawn == []
    assert all(
        re.search(r"[\u4e00-\u9fff]", problem["element_name"] or "中") for problem in proof["problems"]
    )
