"""bpmn/complaint.bpmn, the diagram the mall runs: it deploys, it is valid and drawn, its triage rules
do not overlap. Each path it takes is in test_complaint_paths.py."""

from __future__ import annotations

import itertools
from copy import copy
from pathlib import Path
from types import SimpleNamespace

from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnValidator
from SpiffWorkflow.camunda.parser.CamundaParser import CamundaParser
from SpiffWorkflow.dmn.engine.DMNEngine import DMNEngine

from services.common.clock import MovableClock
from services.routing.domain.commands import DeployProcess
from services.routing.engine.parser import parse_diagram
from services.routing.engine.scripts import ClockScriptEngine, restricted_environment

BPMN_DIR = Path(__file__).resolve().parents[3] / "bpmn"
NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
}
MERCHANT = {
    "code": "M-3F-001",
    "shop_name": "优品服饰",
    "floor": "3F",
    "unit": "301",
    "person_in_charge": "李经理",
    "phone": "13800000001",
}


def deploy_mall_diagram(routing):
    bpmn = (BPMN_DIR / "complaint.bpmn").read_text(encoding="utf-8")
    dmn = {"triage.dmn": (BPMN_DIR / "triage.dmn").read_text(encoding="utf-8")}
    command = DeployProcess(bpmn, dmn, "designer", None, "complaint.bpmn")
    version = routing.bus.handle(command).version
    return version


# --- the diagram itself


def test_the_mall_diagram_deploys_through_the_services_validation(routing):
    version = deploy_mall_diagram(routing)
    assert version.process_key == "complaint"


def test_the_diagram_and_the_decision_are_valid_against_the_bpmn_and_dmn_schemas():
    parser = CamundaParser(validator=BpmnValidator())
    parser.add_bpmn_file(str(BPMN_DIR / "complaint.bpmn"))  # raises naming the line when invalid
    parser.add_dmn_file(str(BPMN_DIR / "triage.dmn"))
    assert parser.get_process_ids() == ["complaint"]


def test_every_element_and_flow_is_drawn():
    root = etree.parse(str(BPMN_DIR / "complaint.bpmn")).getroot()
    process = root.find("bpmn:process", NS)
    nodes = {
        element.get("id")
        for element in process
        if etree.QName(element).localname
        not in ("laneSet", "sequenceFlow", "documentation", "extensionElements")
    }
    flows = {element.get("id") for element in process.findall("bpmn:sequenceFlow", NS)}
    lanes = {lane.get("id") for lane in process.iterfind(".//bpmn:lane", NS)}
    shapes = {shape.get("bpmnElement") for shape in root.iterfind(".//bpmndi:BPMNShape", NS)}
    edges = {edge.get("bpmnElement") for edge in root.iterfind(".//bpmndi:BPMNEdge", NS)}
    assert len(lanes) == 6 and lanes <= shapes
    assert nodes - shapes == set()
    assert flows - edges == set()
    assert {"handle_floor", "merchant_call_overdue"} <= nodes
    for element in process:
        if element.get("id") in nodes:
            assert element.find("bpmn:documentation", NS) is not None, element.get("id")


CATEGORIES = (
    "quality",
    "price",
    "merchant_service",
    "staff_service",
    "environment",
    "facility",
    "fee",
    "emergency",
)
QUEUE_NAMES = {
    "service_desk",
    "floor_supervisor",
    "department_manager",
    "operations_manager",
    "deputy_store_manager",
    "store_manager",
}


def test_exactly_one_triage_rule_matches_every_complaint(clock):
    """The engine takes the first matching rule without checking overlaps: the rules must not overlap."""
    diagram = parse_diagram(
        (BPMN_DIR / "complaint.bpmn").read_bytes(),
        {"triage.dmn": (BPMN_DIR / "triage.dmn").read_bytes()},
        QUEUE_NAMES,
    )
    table = copy(diagram.spec.task_specs["triage"].dmnEngine.decision_table)
    table.hit_policy = "COLLECT"
    engine = ClockScriptEngine(MovableClock(clock.now()), restricted_environment())

    def queues(**complaint) -> list[str]:
        task = SimpleNamespace(data={"complaint": complaint}, workflow=SimpleNamespace(script_engine=engine))
        return [rule.output_as_dict(task)["queue"] for rule in DMNEngine(table).decide(task)]

    for severity, category, about, directly, merchant, department in itertools.product(
        ("normal", "major"), CATEGORIES, (False, True), (False, True), (None, MERCHANT), (None, "cleaning")
    ):
        found = queues(
            severity=severity,
            category=category,
            about_department_manager=about,
            handle_directly=directly,
            merchant=merchant,
            department=department,
        )
        assert len(found) == 1, (severity, category, about, directly, merchant, department, found)
    assert queues(severity="major", category="quality", handle_directly=True) == ["store_manager"]
    assert queues(severity="normal", category="quality", merchant=MERCHANT) == ["operations_manager"]
    assert queues(
        severity="normal", category="staff_service", about_department_manager=True, department="cleaning"
    ) == ["deputy_store_manager"]
    assert queues(severity="normal", category="price", handle_directly=True) == ["service_desk"]
    assert queues(severity="normal", category="price") == ["floor_supervisor"]
    assert queues(severity="normal", category="emergency", merchant=MERCHANT) == ["floor_supervisor"]
    assert queues(severity="normal", category="fee", department="parking") == ["department_manager"]
    assert queues(severity="normal", category="fee") == ["operations_manager"]


def _bounds(root) -> dict[str, tuple[float, float, float, float]]:
    found = {}
    for shape in root.iterfind(".//bpmndi:BPMNShape", NS):
        box = shape.find("dc:Bounds", {**NS, "dc": "http://www.omg.org/spec/DD/20100524/DC"})
        found[shape.get("bpmnElement")] = tuple(float(box.get(k)) for k in ("x", "y", "width", "height"))
    return found


def _overlap(a, b, pad=0.0) -> bool:
    return (
        a[0] + pad < b[0] + b[2]
        and b[0] + pad < a[0] + a[2]
        and a[1] + pad < b[1] + b[3]
        and b[1] + pad < a[1] + a[3]
    )


def test_the_drawing_has_no_overlaps_every_shape_sits_in_its_lane_and_every_flow_goes_around_the_shapes():
    root = etree.parse(str(BPMN_DIR / "complaint.bpmn")).getroot()
    process = root.find("bpmn:process", NS)
    bounds = _bounds(root)
    attached = {
        event.get("id"): event.get("attachedToRef") for event in process.iterfind("bpmn:boundaryEvent", NS)
    }
    lane_of = {
        ref.text: lane.get("id")
        for lane in process.iterfind(".//bpmn:lane", NS)
        for ref in lane.iterfind("bpmn:flowNodeRef", NS)
    }
    nodes = sorted(lane_of)

    for node in nodes:
        box, lane = bounds[node], bounds[lane_of[node]]
        assert lane[0] <= box[0] and box[0] + box[2] <= lane[0] + lane[2], node
        assert lane[1] <= box[1] and box[1] + box[3] <= lane[1] + lane[3], node
    for node, host in attached.items():  # a boundary event's centre is on its task's border
        x, y = bounds[node][0] + 18, bounds[node][1] + 18
        hx, hy, hw, hh = bounds[host]
        assert hx <= x <= hx + hw and y in (hy, hy + hh), node
    for a, b in itertools.combinations(nodes, 2):
        if attached.get(a) != b and attached.get(b) != a:
            assert not _overlap(bounds[a], bounds[b]), (a, b)
    for flow in process.iterfind("bpmn:sequenceFlow", NS):
        edge = root.find(f".//bpmndi:BPMNEdge[@bpmnElement='{flow.get('id')}']", NS)
        points = [
            (float(p.get("x")), float(p.get("y")))
            for p in edge.iterfind("{http://www.omg.org/spec/DD/20100524/DI}waypoint")
        ]
        ends = {flow.get("sourceRef"), flow.get("targetRef")}
        ends |= {attached.get(end) for end in ends}
        for (x0, y0), (x1, y1) in itertools.pairwise(points):
            assert x0 == x1 or y0 == y1, flow.get("id")  # drawn square, as the modelers draw
            segment = (min(x0, x1), min(y0, y1), abs(x1 - x0), abs(y1 - y0))
            for node in nodes:
                if node not in ends:
                    assert not _overlap(segment, bounds[node], pad=2), (flow.get("id"), node)


def test_the_one_process_run_deploys_a_changed_shipped_diagram_until_a_designer_deploys_their_own(
    routing, tmp_path
):
    from services.runner.allinone import deploy_mall_diagram as deploy_shipped

    shipped = tmp_path / "complaint.bpmn"
    (tmp_path / "triage.dmn").write_text(
        (BPMN_DIR / "triage.dmn").read_text(encoding="utf-8"), encoding="utf-8"
    )
    original = (BPMN_DIR / "complaint.bpmn").read_text(encoding="utf-8")

    def versions():
        with routing.uow() as uow:
            newest = uow.processes.newest("demo")
        return (newest.version, newest.deployed_by)

    shipped.write_text(original, encoding="utf-8")
    deploy_shipped(routing, shipped)
    deploy_shipped(routing, shipped)  # unchanged: no new version
    first = versions()
    shipped.write_text(
        original.replace("楼层主管跟进商户投诉", "楼层主管跟进商户投诉（新）"), encoding="utf-8"
    )
    deploy_shipped(routing, shipped)
    changed = versions()
    designers = DeployProcess(
        original.replace("楼层主管跟进商户投诉", "楼层主管跟进商户投诉（设计）"),
        {"triage.dmn": (BPMN_DIR / "triage.dmn").read_text(encoding="utf-8")},
        "designer",
        None,
        "complaint.bpmn",
    )
    routing.bus.handle(designers)  # a designer's own deployment, by the API
    shipped.write_text(
        original.replace("楼层主管跟进商户投诉", "楼层主管跟进商户投诉（又新）"), encoding="utf-8"
    )
    deploy_shipped(routing, shipped)

    assert (first, changed) == ((1, "demo"), (2, "demo"))
    assert versions() == (3, "designer")  # the designer's version stays the newest
